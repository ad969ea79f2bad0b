/**
 * The conflists gantryd writes for its own networks (pure functions): the
 * default network `bridge` and every `network create` network are a Linux
 * bridge with host-local IPAM, then portmap (published ports), firewall
 * (isolation between networks) and tuning (--mac-address):
 *
 *   bridge     isGateway, hairpinMode (a container reaches its own
 *              published port); IPAM host-local with dataDir under the
 *              daemon root; capability `ips` (--ip). No ipMasq: the NAT to
 *              the outside is gantryd's, one rule per network (bridges.ts)
 *   portmap    capability `portMappings`; snat: true, so a published port
 *              also answers on 127.0.0.1 (portmap sets route_localnet on the
 *              bridge and masquerades loopback sources)
 *   firewall   backend iptables: stays in the list but is not run
 *              (attachmentConflist): accepting the network's traffic in
 *              FORWARD and the isolation between networks (traffic from
 *              another bridge is dropped) are gantryd's, set up per network
 *              rather than per container (bridges.ts)
 *   tuning     capability `mac`, its restore data under the daemon root
 *
 * An internal network has no gateway on the bridge, no masquerade, no route
 * out and no portmap. `masqueradeOf` says which networks gantryd NATs. `-o` options follow Docker's names where they exist.
 */
import { invalidArgument } from '../errdefs/errdefs';
import type { Conflist, PluginConf, RuntimeConfig } from './cni/conflist';

export const CNI_VERSION = '1.0.0';

/** The name of the default network, as in Docker. */
export const DEFAULT_NETWORK = 'bridge';
/** The default network's Linux bridge unless the daemon is told otherwise. */
export const DEFAULT_BRIDGE = 'gantry0';

export interface BridgeNetworkSpec {
  readonly name: string;
  /** The Linux bridge device (at most 15 bytes). */
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  readonly mtu?: number;
  /** host-local's dataDir: allocations live in `<ipamDir>/<name>/`. */
  readonly ipamDir: string;
  /** tuning's dataDir (what to restore on DEL). */
  readonly tuningDir: string;
}

export interface BridgeOptions {
  readonly bridge?: string;
  readonly mtu?: number;
  readonly ipMasq: boolean;
}

const BRIDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function validBridgeName(name: string): boolean {
  return BRIDGE_NAME.test(name);
}

/** `network create -o KEY=VALUE` options, Docker's names or short ones. */
export function parseBridgeOptions(options: Readonly<Record<string, string>>): BridgeOptions {
  let bridge: string | undefined;
  let mtu: number | undefined;
  let ipMasq = true;
  for (const [key, value] of Object.entries(options)) {
    switch (key) {
      case 'com.docker.network.bridge.name':
      case 'bridge.name':
      case 'bridge':
        if (!validBridgeName(value))
          throw invalidArgument(`-o ${key}: invalid bridge name ${JSON.stringify(value)} (1-15 letters, digits, '_', '.', '-')`);
        bridge = value;
        break;
      case 'com.docker.network.driver.mtu':
      case 'mtu': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 68 || n > 65535)
          throw invalidArgument(`-o ${key}: invalid MTU ${JSON.stringify(value)} (68-65535)`);
        mtu = n;
        break;
      }
      case 'com.docker.network.bridge.enable_ip_masquerade':
      case 'ip-masq':
        if (value !== 'true' && value !== 'false') throw invalidArgument(`-o ${key}: want true or false, not ${JSON.stringify(value)}`);
        ipMasq = value === 'true';
        break;
      default:
        throw invalidArgument(
          `unknown network option ${JSON.stringify(key)} (known: bridge.name, mtu, ip-masq and their com.docker.network.* names)`,
        );
    }
  }
  return { bridge, mtu, ipMasq };
}

export function bridgeConflist(spec: BridgeNetworkSpec): Conflist {
  const ipam = {
    type: 'host-local',
    ranges: [[{ subnet: spec.subnet, gateway: spec.gateway }]],
    routes: spec.internal ? [] : [{ dst: '0.0.0.0/0' }],
    dataDir: spec.ipamDir,
  };
  const plugins: PluginConf[] = [
    {
      type: 'bridge',
      bridge: spec.bridge,
      isGateway: !spec.internal,
      hairpinMode: true,
      ...(spec.mtu ? { mtu: spec.mtu } : {}),
      capabilities: { ips: true },
      ipam,
    },
  ];
  if (!spec.internal) plugins.push({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  plugins.push({ type: 'firewall', backend: 'iptables' });
  plugins.push({ type: 'tuning', capabilities: { mac: true }, dataDir: spec.tuningDir });
  return { cniVersion: CNI_VERSION, name: spec.name, plugins };
}

/** The subnet gantryd masquerades for a network of its own, if any (not internal, ip-masq not off). */
export function masqueradeOf(info: {
  readonly internal: boolean;
  readonly subnet: string;
  readonly options: Readonly<Record<string, string>>;
}): string | undefined {
  return !info.internal && parseBridgeOptions(info.options).ipMasq && info.subnet ? info.subnet : undefined;
}

/**
 * A gantryd network's list for one attachment, without the plugins that
 * have nothing to do for it: portmap when no port is published (ADD, CHECK
 * and DEL return at once without `portMappings`), tuning when no MAC is
 * asked (ADD saves nothing and DEL restores nothing without a setting), and
 * firewall always: gantryd accepts each network's traffic in FORWARD once per
 * network (bridges.ts `ensureForwarding`), where the plugin would add and
 * delete two rules per container (~50 ms of iptables work per ADD and per
 * DEL here, docs/performance.md). Each
 * skipped plugin is one exec less on ADD and on DEL of every run. A list
 * written before gantryd took the isolation and the masquerade over loses
 * firewall's `ingressPolicy` and bridge's `ipMasq` (eight and nine iptables
 * executions per ADD, six per DEL). The record
 * keeps the list as ADDed, so DEL and CHECK run exactly these plugins.
 * Only for the lists this file writes: a `--cni-conf-dir` list runs as given.
 */
export function attachmentConflist(list: Conflist, rc: RuntimeConfig): Conflist {
  const idle = (p: PluginConf): boolean => {
    if (p.type === 'portmap') return !rc.portMappings?.length;
    if (p.type === 'tuning') return !rc.mac && Object.keys(p).every((k) => TUNING_KEYS.has(k));
    // gantryd accepts the network's traffic in FORWARD itself (bridges.ts forwardRules); isolation is gantryd's too.
    if (p.type === 'firewall') return Object.keys(p).every((k) => FIREWALL_KEYS.has(k));
    return false;
  };
  const withoutHostRules = (p: PluginConf): PluginConf => {
    if (p.type === 'firewall' && 'ingressPolicy' in p) {
      const { ingressPolicy: _isolatedByGantryd, ...rest } = p;
      return rest;
    }
    if (p.type === 'bridge' && 'ipMasq' in p) {
      const { ipMasq: _masqueradedByGantryd, ...rest } = p;
      return rest;
    }
    return p;
  };
  return { ...list, plugins: list.plugins.filter((p) => !idle(p)).map(withoutHostRules) };
}

/**
 * The keys of the firewall entry bridgeConflist writes (and `ingressPolicy`,
 * which lists written before gantryd isolated networks itself still have):
 * with gantryd's own forwarding and isolation rules, the plugin adds nothing.
 */
const FIREWALL_KEYS = new Set(['type', 'backend', 'ingressPolicy']);

/** The keys of the tuning entry bridgeConflist writes: none of them makes tuning act by itself. */
const TUNING_KEYS = new Set(['type', 'capabilities', 'dataDir']);

/** The subnets a conflist's host-local IPAM uses (for overlap checks with user-provided lists). */
export function conflistSubnets(list: Conflist): string[] {
  const out: string[] = [];
  for (const p of list.plugins) {
    const ipam = p.ipam as { subnet?: unknown; ranges?: unknown } | undefined;
    if (!ipam) continue;
    if (typeof ipam.subnet === 'string') out.push(ipam.subnet);
    if (Array.isArray(ipam.ranges)) {
      for (const set of ipam.ranges) {
        if (!Array.isArray(set)) continue;
        for (const r of set) if (r && typeof (r as { subnet?: unknown }).subnet === 'string') out.push((r as { subnet: string }).subnet);
      }
    }
  }
  return out;
}
