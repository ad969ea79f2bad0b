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
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { failedPrecondition, invalidArgument, kindOf, notFound } from '../errdefs/errdefs';
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
import {
  isCniNetwork,
  joinedContainer,
  type Container,
  type ContainerConfig,
  type ContainerNetworkOptions,
  type NetworkConnection,
} from './containers';
import { checkAliases, endpointsOf, requireConnectable, requireOwnNetworks, withConnection, withoutConnection } from './networkEndpoints';

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

/** `network connect|disconnect` by container name or ID, under the container's lock (daemon/containers.ts). */
export interface NetworkConnections {
  connect(ctx: Ctx, container: string, conn: NetworkConnection): Promise<Container>;
  disconnect(ctx: Ctx, container: string, network: string, force: boolean): Promise<Container>;
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
  /** A container's record by ID (`--network container:ID` looks up its target; recovery registers running containers' names). */
  readonly lookup?: (id: string) => Container | undefined;
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
  if (joinedContainer(c.network) !== undefined) {
    checkJoinOptions(c);
  } else if (!isCniNetwork(c.network)) {
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

/**
 * `--network container:NAME`: the container has no network settings of its
 * own — Docker's "conflicting options" refusals. `hostname` is checked by
 * the caller that has the whole config (fromWireConfig), through this too.
 */
export function checkJoinOptions(c: Pick<ContainerConfig, keyof ContainerNetworkOptions | 'hostname' | 'network'>): void {
  if (!joinedContainer(c.network))
    throw invalidArgument(`invalid container network mode ${JSON.stringify(c.network)}: want container:NAME`);
  if (c.publish?.length || c.publishAll) throw invalidArgument('conflicting options: port publishing and the container type network mode');
  if (c.expose?.length) throw invalidArgument('conflicting options: port exposing and the container type network mode');
  if (c.hostname) throw invalidArgument('conflicting options: hostname and the network mode');
  if (c.dns?.length || c.dnsSearch?.length || c.dnsOptions?.length) throw invalidArgument('conflicting options: dns and the network mode');
  if (c.addHosts?.length) throw invalidArgument('conflicting options: custom host-to-IP mapping and the network mode');
  if (c.macAddress) throw invalidArgument('conflicting options: mac-address and the network mode');
  if (c.ip) throw invalidArgument('user specified IP address is supported on user defined networks only');
  if (c.networkAliases?.length) throw invalidArgument('network-scoped alias is supported only for containers in user defined networks');
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

  /**
   * `--network container:<id>`: the container whose network namespace this
   * one joins, when it runs (or is paused). Not running: undefined, or with
   * `required` (at start) Docker's error. Its namespace is then
   * `/proc/<pid>/ns/net` of its task, whatever its own mode.
   */
  joinTarget(container: Container, required: boolean): Container | undefined {
    const ref = joinedContainer(container.config.network);
    if (ref === undefined) return undefined;
    if (ref === container.id) throw invalidArgument('cannot join own network namespace');
    const target = this.deps.lookup?.(ref);
    if (!target) throw notFound(`no such container: ${ref} (the container whose network this one joins)`);
    const up = (target.state.status === 'running' || target.state.status === 'paused') && target.state.pid > 0;
    if (up) return target;
    if (required) throw failedPrecondition(`cannot join network of a non running container: ${target.name}`);
    return undefined;
  }

  /** At create: what only the daemon can check (the network exists, --ip in its subnet). */
  async validate(container: Container): Promise<void> {
    const c = container.config;
    if (!isCniNetwork(c.network)) return;
    // A primary network taken away by `network disconnect` may be gone since.
    const info = c.primaryDisconnected ? undefined : await this.require().inspectNetwork(c.network);
    if (info && c.ip) checkIpIn(c.ip, info);
    for (const h of c.addHosts ?? []) parseAddHost(h, info?.gateway || undefined);
    for (const n of c.connectedNetworks ?? []) {
      const other = await this.require().inspectNetwork(n.network);
      if (n.ip) checkIpIn(n.ip, other);
    }
    portSpecs(container);
  }

  /**
   * Attaches the container (before `runc create`) and returns its /etc files;
   * undefined for `none`/`host`. `restart`: a restart by the policy, which
   * keeps the host ports it had. `netns`: the task's own namespace to attach
   * (under --userns-remap) instead of a new one.
   */
  async attach(
    ctx: Ctx,
    container: Container,
    restart: boolean,
    netns?: string,
    onSandbox?: () => void,
  ): Promise<NetworkEtcFiles | undefined> {
    const c = container.config;
    if (!isCniNetwork(c.network)) return undefined;
    const manager = this.require();
    // The primary network and those of `network connect` (networkEndpoints.ts); none left: loopback only.
    const request = endpointsOf(c);
    const previous = restart ? this.lastPorts.get(container.id) : undefined;
    const ports = (specs: PortSpec[]) => (request.length > 0 ? specs : []);
    let attachment: Attachment;
    try {
      attachment = await manager.attach(ctx, container.id, request, {
        ports: ports(previous ? fixed(previous) : portSpecs(container)),
        netns,
        onSandbox,
      });
    } catch (e) {
      // Someone took a port meanwhile: a restart gets free ones as the user asked.
      if (!previous || kindOf(e) !== 'Conflict') throw e;
      attachment = await manager.attach(ctx, container.id, request, { ports: ports(portSpecs(container)), netns, onSandbox });
    }
    this.lastPorts.delete(container.id);
    this.attached.set(container.id, attachment);
    for (const n of attachment.networks) this.publish(NetworkTopics.connect, n.networkId, container, n.network);
    const resolvers = await this.registerNames(container, attachment);
    const { host, upstream } = await readHostResolvConf();
    return {
      hosts: hostsOf(container, attachment),
      resolvConf: containerResolvConf(host, upstream, {
        dns: c.dns,
        dnsSearch: c.dnsSearch,
        dnsOptions: c.dnsOptions,
        embedded: resolvers.get(attachment.networks[0]?.network ?? ''),
      }),
    };
  }

  /**
   * `network connect`: checks, then, when the container is attached (it
   * runs), CNI ADD of the network into its sandbox and /etc/hosts in `etcDir`
   * rewritten; returns the config that records the connection (the caller
   * persists it). A created or stopped container only gets the new config:
   * its next start attaches every network. Nothing changes when a step fails.
   */
  async connect(ctx: Ctx, container: Container, req: NetworkConnection, etcDir: string): Promise<ContainerConfig> {
    requireOwnNetworks(container.config, 'connect');
    requireConnectable(req.network);
    checkAliases(req.aliases ?? []);
    const manager = this.require();
    const info = await manager.inspectNetwork(req.network);
    if (req.ip) checkIpIn(req.ip, info);
    const config = withConnection(container.config, container.name, { ...req, network: info.name });
    if (await manager.attachment(container.id)) {
      const attachment = await manager.connect(ctx, container.id, { network: info.name, aliases: req.aliases, ip: req.ip });
      this.attached.set(container.id, attachment);
      await this.rewriteHosts({ ...container, config }, attachment, etcDir);
      await this.registerNames({ ...container, config }, attachment);
      this.publish(NetworkTopics.connect, info.id, container, info.name);
    }
    return config;
  }

  /**
   * `network disconnect`: CNI DEL of that network only when the container is
   * attached, /etc/hosts rewritten; returns the config without it. `force`:
   * the network may be gone, and a failed DEL still takes it out of the
   * config (the attachment record keeps it for the DEL at detach).
   */
  async disconnect(ctx: Ctx, container: Container, network: string, force: boolean, etcDir: string): Promise<ContainerConfig> {
    requireOwnNetworks(container.config, 'disconnect');
    const manager = this.require();
    let name = network;
    let id = '';
    try {
      const info = await manager.inspectNetwork(network);
      name = info.name;
      id = info.id;
    } catch (e) {
      if (!force || kindOf(e) !== 'NotFound') throw e;
    }
    const config = withoutConnection(container.config, container.name, name);
    const current = await manager.attachment(container.id);
    const endpoint = current?.networks.find((n) => n.network === name);
    if (current && endpoint) {
      let attachment: Attachment | undefined;
      // First, so its name on that network stops resolving even when the DEL fails.
      await this.deps.names?.unregister(container.id, name);
      try {
        attachment = await manager.disconnect(ctx, container.id, name);
      } catch (e) {
        if (!force) throw e;
        this.deps.log.warn('network disconnect -f: the DEL failed; it is tried again at detach', {
          id: container.id,
          network: name,
          error: e,
        });
      }
      if (attachment) {
        this.attached.set(container.id, attachment);
        await this.rewriteHosts({ ...container, config }, attachment, etcDir);
      }
      this.publish(NetworkTopics.disconnect, id || endpoint.networkId, container, name);
    }
    return config;
  }

  /** /etc/hosts of a running container, rewritten in place (the container's bind mount holds the file). */
  private async rewriteHosts(container: Container, attachment: Attachment, etcDir: string): Promise<void> {
    await fs.promises.writeFile(path.join(etcDir, 'hosts'), hostsOf(container, attachment));
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
      const container = this.deps.lookup?.(a.containerId);
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

/** The container's /etc/hosts: its addresses on every network with its hostname, and --add-host. */
function hostsOf(container: Container, attachment: Attachment): string {
  const c = container.config;
  const gateway = attachment.networks[0]?.gateway || undefined;
  return containerHosts({
    hostname: c.hostname || container.id.slice(0, 12),
    addresses: attachment.networks.flatMap((n) => n.addresses),
    extraHosts: (c.addHosts ?? []).map((h) => parseAddHost(h, gateway)),
  });
}

function checkIpIn(ip: string, info: { readonly name: string; readonly subnet: string }): void {
  const subnet = parseCidr(info.subnet);
  const n = parseIPv4(ip);
  if (n === undefined || !contains(subnet, n)) throw invalidArgument(`--ip ${ip} is not in network "${info.name}"'s subnet ${info.subnet}`);
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
