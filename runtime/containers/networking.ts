/**
 * The container side of networking: what a container on a CNI network
 * (`bridge`, user networks) gets at create, start, exit and removal, over
 * the NetworkManager of runtime/network/ (docs/networking.md).
 *
 * - create: the network exists, `--ip` lies in its subnet, `-p`, `--expose`
 *   and `--add-host` parse (validate) — before anything is made;
 * - start, before `runc create`: attach (namespace, CNI ADD, host ports),
 *   then the container's /etc/hosts and /etc/resolv.conf contents;
 * - exit, stop, rm, a failed start: detach (idempotent). The host ports
 *   the container had are kept in memory so a restart by its policy gets
 *   the same ones;
 * - gantryd start: recover (DEL for every container not running), CHECK
 *   for the running ones.
 * - names: on a user network the container's names are registered with the
 *   network's embedded resolver (`names`, runtime/network/dns/resolver/)
 *   after attach and at recovery, and unregistered first thing at detach;
 *   its resolv.conf then names only the resolver.
 *
 * When the host lacks the plugins or iptables, `manager` is absent and
 * every CNI network use fails with what to install; `none` and `host` never
 * come here.
 */
import * as net from 'node:net';
import type { Ctx } from '../context';
import { failedPrecondition, invalidArgument, kindOf } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import type { ContainerConfig as ImageRuntimeConfig } from '../images/manifest';
import {
  containerHosts,
  containerResolvConf,
  parseAddHost,
  parsePublish,
  publishAll,
  readHostResolvConf,
  type Attachment,
  type NameService,
  type NetworkManager,
  type PortMapping,
  type PortSpec,
} from '../network/index';
import { contains, parseCidr, parseIPv4 } from '../network/subnets';
import type { Logger } from '../util/log';
import { isCniNetwork, type Container, type ContainerConfig } from './containers';

/** Event topics of networks; a network event's id is the network's ID, connect/disconnect carry the container. */
export const NetworkTopics = {
  create: '/networks/create',
  destroy: '/networks/destroy',
  connect: '/networks/connect',
  disconnect: '/networks/disconnect',
} as const;

/** The /etc files of an attached container. */
export interface NetworkEtcFiles {
  readonly hosts: string;
  readonly resolvConf: string;
}

export interface ContainerNetworksDeps {
  /** Absent when the host lacks what CNI networks need. */
  readonly manager?: NetworkManager;
  /** Why `manager` is absent: what to install (availability's hint). */
  readonly unavailable?: string;
  readonly events: Publisher;
  readonly log: Logger;
  /** The user networks' embedded DNS; absent: no name resolution (resolv.conf is the host's). */
  readonly names?: NameService;
  /** The container record of an ID (recovery registers running containers' names). */
  readonly containerOf?: (id: string) => Container | undefined;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/**
 * The pure checks of a config's network options (at the API's door): `-p`,
 * `--expose`, `--add-host`, `--ip`, `--mac-address`, and that none of them is
 * given for `none`/`host`.
 */
export function checkNetworkOptions(c: ContainerConfig): void {
  for (const p of c.publish ?? []) parsePublish(p);
  for (const e of c.expose ?? []) exposedPorts(e);
  for (const h of c.addHosts ?? []) parseAddHost(h, '0.0.0.0');
  if (c.ip && net.isIPv4(c.ip) === false) throw invalidArgument(`invalid --ip ${JSON.stringify(c.ip)}: not an IPv4 address`);
  if (c.macAddress && !MAC.test(c.macAddress)) throw invalidArgument(`invalid --mac-address ${JSON.stringify(c.macAddress)}`);
  if (!isCniNetwork(c.network)) {
    const asked = [
      c.publish?.length && '--publish',
      c.publishAll && '--publish-all',
      c.ip && '--ip',
      c.macAddress && '--mac-address',
      c.networkAliases?.length && '--network-alias',
    ].filter(Boolean);
    if (asked.length) throw invalidArgument(`conflicting options: ${asked.join(', ')} cannot be used with network "${c.network}"`);
  }
}

/** `--expose 80`, `--expose 8000-8010/udp` → the container ports. */
function exposedPorts(text: string): PortSpec[] {
  if (text.includes(':')) throw invalidArgument(`invalid --expose ${JSON.stringify(text)}: a port or a range, no host part`);
  return parsePublish(text);
}

export class ContainerNetworks {
  private readonly attached = new Map<string, Attachment>();
  /** Host ports of containers that exited, for a restart by their policy. */
  private readonly lastPorts = new Map<string, readonly PortMapping[]>();

  constructor(private readonly deps: ContainerNetworksDeps) {}

  get manager(): NetworkManager | undefined {
    return this.deps.manager;
  }

  /** The container's attachment while it has one (inspect, ps). */
  current(id: string): Attachment | undefined {
    return this.attached.get(id);
  }

  /** The namespace file runc joins, or undefined for `none`/`host`. */
  netnsPathOf(container: Container): string | undefined {
    if (!isCniNetwork(container.config.network)) return undefined;
    return this.require().netnsPath(container.id);
  }

  /** At create: what only the daemon can check (the network exists, --ip in its subnet). */
  async validate(container: Container): Promise<void> {
    const c = container.config;
    if (!isCniNetwork(c.network)) return;
    const info = await this.require().inspectNetwork(c.network);
    if (c.ip) {
      const subnet = parseCidr(info.subnet);
      const ip = parseIPv4(c.ip);
      if (ip === undefined || !contains(subnet, ip)) {
        throw invalidArgument(`--ip ${c.ip} is not in network "${info.name}"'s subnet ${info.subnet}`);
      }
    }
    for (const h of c.addHosts ?? []) parseAddHost(h, info.gateway || undefined);
    portSpecs(container);
  }

  /**
   * Attaches the container (before `runc create`) and returns its /etc files;
   * undefined for `none`/`host`. `restart`: a restart by the policy, which
   * keeps the host ports it had. `netns`: the task's own namespace to attach
   * (under --userns-remap) instead of a new one.
   */
  async attach(ctx: Ctx, container: Container, restart: boolean, netns?: string): Promise<NetworkEtcFiles | undefined> {
    const c = container.config;
    if (!isCniNetwork(c.network)) return undefined;
    const manager = this.require();
    const request = [{ network: c.network, aliases: c.networkAliases, ip: c.ip, mac: c.macAddress }];
    const previous = restart ? this.lastPorts.get(container.id) : undefined;
    let attachment: Attachment;
    try {
      attachment = await manager.attach(ctx, container.id, request, { ports: previous ? fixed(previous) : portSpecs(container), netns });
    } catch (e) {
      // Someone took a port meanwhile: a restart gets free ones as the user asked.
      if (!previous || kindOf(e) !== 'Conflict') throw e;
      attachment = await manager.attach(ctx, container.id, request, { ports: portSpecs(container), netns });
    }
    this.lastPorts.delete(container.id);
    this.attached.set(container.id, attachment);
    for (const n of attachment.networks) this.publish(NetworkTopics.connect, n.networkId, container, n.network);
    const resolvers = await this.registerNames(container, attachment);
    const gateway = attachment.networks[0]?.gateway || undefined;
    const { host, upstream } = await readHostResolvConf();
    return {
      hosts: containerHosts({
        hostname: c.hostname || container.id.slice(0, 12),
        addresses: attachment.networks.flatMap((n) => n.addresses),
        extraHosts: (c.addHosts ?? []).map((h) => parseAddHost(h, gateway)),
      }),
      resolvConf: containerResolvConf(host, upstream, {
        dns: c.dns,
        dnsSearch: c.dnsSearch,
        dnsOptions: c.dnsOptions,
        embedded: resolvers.get(attachment.networks[0]?.network ?? ''),
      }),
    };
  }

  /** Releases the container's network (idempotent); remembers its host ports unless it is being removed. */
  async detach(ctx: Ctx, container: Pick<Container, 'id' | 'name'>, removing: boolean): Promise<void> {
    const { manager } = this.deps;
    if (!manager) return;
    // First, so a removed container's name stops resolving even when a DEL fails.
    await this.deps.names?.unregister(container.id);
    const had = this.attached.get(container.id) ?? (await manager.attachment(container.id));
    await manager.detach(ctx, container.id);
    this.attached.delete(container.id);
    if (removing) this.lastPorts.delete(container.id);
    else if (had?.ports.length) this.lastPorts.set(container.id, had.ports);
    for (const n of had?.networks ?? []) this.publish(NetworkTopics.disconnect, n.networkId, container, n.network);
  }

  /** gantryd start: DEL for every container not in `running`, CHECK for those that are. */
  async recover(ctx: Ctx, running: ReadonlySet<string>): Promise<void> {
    const { manager, log } = this.deps;
    if (!manager) return;
    const report = await manager.recover(ctx, running);
    if (report.released.length || report.removedNetns.length || report.problems.length) log.info('networks recovered', { ...report });
    for (const a of await manager.listAttachments()) {
      if (!running.has(a.containerId)) continue;
      this.attached.set(a.containerId, a);
      const container = this.deps.containerOf?.(a.containerId);
      if (container) await this.registerNames(container, a);
      const check = await manager.check(ctx, a.containerId).catch((e: unknown) => ({ ok: false, error: String(e) }));
      if (!check.ok) log.warn('network check failed for a running container', { id: a.containerId, check });
    }
  }

  /** Network → resolver address for the networks whose resolver listens; never fails the caller. */
  private async registerNames(container: Container, attachment: Attachment): Promise<ReadonlyMap<string, string>> {
    const { names, log } = this.deps;
    if (!names) return new Map();
    return names.register({ id: container.id, name: container.name, dns: container.config.dns }, attachment).catch((error: unknown) => {
      log.warn('registering container names with the DNS resolver failed', { id: container.id, error: String(error) });
      return new Map<string, string>();
    });
  }

  private require(): NetworkManager {
    if (!this.deps.manager) throw failedPrecondition(this.deps.unavailable ?? 'CNI networks are unavailable on this host');
    return this.deps.manager;
  }

  private publish(topic: string, networkId: string, container: Pick<Container, 'id' | 'name'>, network: string): void {
    this.deps.events.publish(topic, networkId, { container: container.id, ...(container.name ? { name: container.name } : {}), network });
  }
}

/** -p, and with -P every exposed port (the image's and --expose) not published already. */
function portSpecs(container: Container): PortSpec[] {
  const c = container.config;
  const specs = (c.publish ?? []).flatMap((p) => parsePublish(p));
  if (!c.publishAll) return specs;
  const image: ImageRuntimeConfig = container.imageConfig;
  const exposed = [
    ...Object.keys(image.ExposedPorts ?? {}),
    ...(c.expose ?? []).flatMap((e) => exposedPorts(e).map((s) => `${s.containerPort}/${s.protocol}`)),
  ];
  const taken = new Set(specs.map((s) => `${s.containerPort}/${s.protocol}`));
  return [...specs, ...publishAll(exposed).filter((s) => !taken.has(`${s.containerPort}/${s.protocol}`))];
}

function fixed(ports: readonly PortMapping[]): PortSpec[] {
  return ports.map((p) => ({
    hostIp: p.hostIp,
    hostPort: p.hostPort,
    hostPortEnd: p.hostPort,
    containerPort: p.containerPort,
    protocol: p.protocol,
  }));
}
