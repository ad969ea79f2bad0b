/**
 * The embedded DNS resolver of user networks (docs/networking.md, "Names
 * on user networks"): containers on one user network resolve each other by
 * container name, `--network-alias` and short ID, through DNS, as with
 * Docker's embedded server and Podman's aardvark-dns.
 *
 * One resolver per user network, on its gateway address port 53 (UDP and
 * TCP): opened when the network gets its first registered container (the
 * bridge and its address exist only after the first CNI ADD), closed when
 * the last one is unregistered, and at close(). The default `bridge`,
 * `--cni-conf-dir` lists and internal networks (no address on the bridge)
 * get none: their containers keep the host's upstream servers.
 *
 * What the container side calls (runtime/containers/networking.ts):
 *   register(container, attachment)   after attach, network connect, and for
 *                                     each running container at recovery;
 *                                     returns network → resolver address
 *   unregister(containerId, network?) at detach (every network), network
 *                                     disconnect (that network)
 */
import type { Attachment, NetworkInfo } from '../../index';
import { contains, parseCidr, parseIPv4 } from '../../subnets';
import type { Logger } from '../../../util/log';
import { parseResolvConf, reachableResolvConf, readHostResolvConf } from '../resolvConf';
import { upstream, type Upstream } from './forward';
import { containerNames, NameTable, splitAddresses } from './names';
import { NetworkResolver, type QueryContext } from './server';

export { NameTable, containerNames, ANSWER_TTL } from './names';
export { upstream, type Upstream } from './forward';

/** What the resolver needs to know of a container. */
export interface NameRecord {
  readonly id: string;
  readonly name: string;
  /** `--dns`: where its queries for other names go. */
  readonly dns?: readonly string[];
}

/** The hooks of the container side (an injected interface, so it can be absent or faked). */
export interface NameService {
  /**
   * Adds (or replaces) the container's names on every network of the
   * attachment that has a resolver, opening the resolver at the network's
   * first container. Returns network → resolver address for the networks
   * whose resolver listens (use it as the container's nameserver); a
   * resolver that cannot bind is logged and left out (never an error).
   */
  register(container: NameRecord, attachment: Attachment): Promise<ReadonlyMap<string, string>>;
  /** Removes the container's names from `network` (or all); a network left with none closes its resolver. */
  unregister(containerId: string, network?: string): Promise<void>;
  close(): Promise<void>;
}

export interface EmbeddedDnsDeps {
  readonly networkInfo: (name: string) => Promise<NetworkInfo>;
  /** Default: hostUpstreams(). */
  readonly hostUpstreams?: () => Promise<Upstream[]>;
  /** Default 53 (tests of the resolver alone use another). */
  readonly port?: number;
  /** Per upstream server (default 2 s). */
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

/** Does the network get a resolver? gantryd's user networks with an address on the bridge. */
export function hasResolver(info: NetworkInfo): boolean {
  return !info.builtin && !info.readOnly && !info.internal && info.gateway !== '';
}

/**
 * Where the resolver forwards for containers without `--dns`: the host's
 * own nameservers, a loopback stub included (systemd-resolved's
 * 127.0.0.53, a local dnsmasq) — gantryd runs in the host's network
 * namespace, so it reaches them, and they know the host's split DNS and VPN
 * domains, as Docker's embedded server does since 26.0. When the host's
 * file names none, the servers a container on the default bridge gets.
 */
export async function hostUpstreams(hostFile?: string, upstreamFile?: string): Promise<Upstream[]> {
  const { host, upstream: up } = await readHostResolvConf(hostFile, upstreamFile);
  const own = parseResolvConf(host).nameservers;
  return (own.length > 0 ? own : reachableResolvConf(host, up).nameservers).map((ns) => upstream(ns));
}

export class EmbeddedDns implements NameService {
  readonly table = new NameTable();
  private readonly resolvers = new Map<string, NetworkResolver>();
  /** Register and unregister run one at a time: a resolver is never opened and closed at once. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: EmbeddedDnsDeps) {}

  register(container: NameRecord, attachment: Attachment): Promise<ReadonlyMap<string, string>> {
    return this.serial(async () => {
      const listening = new Map<string, string>();
      for (const n of attachment.networks) {
        const info = await this.deps.networkInfo(n.network).catch(() => undefined);
        if (!info || !hasResolver(info)) continue;
        this.table.set(n.network, {
          containerId: container.id,
          names: containerNames(container.name, n.aliases, container.id),
          ...splitAddresses(n.addresses),
          dns: container.dns ?? [],
        });
        const resolver = await this.open(info, n.gateway || info.gateway);
        if (resolver) listening.set(n.network, resolver.address);
      }
      return listening;
    });
  }

  unregister(containerId: string, network?: string): Promise<void> {
    return this.serial(async () => {
      for (const emptied of this.table.remove(containerId, network)) await this.closeNetwork(emptied);
    });
  }

  /** Which networks have a listening resolver, and where (for inspect and tests). */
  listening(): ReadonlyMap<string, string> {
    return new Map([...this.resolvers].map(([n, r]) => [n, r.address]));
  }

  close(): Promise<void> {
    return this.serial(async () => {
      this.closed = true;
      for (const network of [...this.resolvers.keys()]) await this.closeNetwork(network);
    });
  }

  private async open(info: NetworkInfo, address: string): Promise<NetworkResolver | undefined> {
    const existing = this.resolvers.get(info.name);
    if (existing || this.closed) return existing;
    const subnet = parseCidr(info.subnet);
    const qc: QueryContext = {
      network: info.name,
      table: this.table,
      serves: (source) => {
        const ip = parseIPv4(source.replace(/^::ffff:/, ''));
        return ip !== undefined && contains(subnet, ip);
      },
      hostUpstreams: this.deps.hostUpstreams ?? (() => hostUpstreams()),
      timeoutMs: this.deps.timeoutMs,
      log: this.deps.log,
    };
    const port = this.deps.port ?? 53;
    try {
      const resolver = await NetworkResolver.open(address, port, qc);
      this.resolvers.set(info.name, resolver);
      this.deps.log?.debug('dns: resolver listening', { network: info.name, address, port });
      return resolver;
    } catch (e) {
      this.deps.log?.warn("dns: cannot listen on the network's gateway; its containers use the host's upstream servers", {
        network: info.name,
        address: `${address}:${port}`,
        error: String(e),
      });
      return undefined;
    }
  }

  private async closeNetwork(network: string): Promise<void> {
    const resolver = this.resolvers.get(network);
    this.resolvers.delete(network);
    await resolver?.close().catch(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
