/**
 * The embedded resolver's name table: per network, the containers attached
 * to it with the names they answer to (container name, `--network-alias`es,
 * 12-char short ID), their addresses, and the `--dns` servers their queries
 * for other names go to. And the answer to a question from it (pure).
 */
import * as net from 'node:net';
import { DnsType, Rcode, reverseName, type DnsRecord, type Question } from './codec';

/**
 * Seconds a client may keep an answer. Short, because names come and go
 * with containers (a removed container's name must stop resolving, a
 * restarted one may get another address); the resolver is one hop away.
 */
export const ANSWER_TTL = 10;

export interface NameEntry {
  readonly containerId: string;
  /** Lower-case; the first is the container's name (the PTR answer). */
  readonly names: readonly string[];
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  /** The container's `--dns` servers: where its other queries go (empty: the host's). */
  readonly dns: readonly string[];
}

export interface LocalAnswer {
  readonly rcode: number;
  readonly answers: readonly DnsRecord[];
}

export class NameTable {
  private readonly networks = new Map<string, Map<string, NameEntry>>();

  /** Adds or replaces the container's entry on `network`. */
  set(network: string, entry: NameEntry): void {
    let entries = this.networks.get(network);
    if (!entries) this.networks.set(network, (entries = new Map()));
    entries.set(entry.containerId, entry);
  }

  /** Removes the container from `network` (or every network); returns the networks left with no container. */
  remove(containerId: string, network?: string): string[] {
    const emptied: string[] = [];
    for (const [name, entries] of this.networks) {
      if (network !== undefined && name !== network) continue;
      if (!entries.delete(containerId)) continue;
      if (entries.size === 0) {
        this.networks.delete(name);
        emptied.push(name);
      }
    }
    return emptied;
  }

  /** Removes a whole network (it was removed, or its resolver is gone). */
  drop(network: string): void {
    this.networks.delete(network);
  }

  size(network: string): number {
    return this.networks.get(network)?.size ?? 0;
  }

  networksOf(containerId: string): string[] {
    return [...this.networks].filter(([, entries]) => entries.has(containerId)).map(([name]) => name);
  }

  entries(network: string): NameEntry[] {
    return [...(this.networks.get(network)?.values() ?? [])];
  }

  /** The entries answering to `name` (lower-case, no trailing dot) on `network`. */
  lookup(network: string, name: string): NameEntry[] {
    return this.entries(network).filter((e) => e.names.includes(name));
  }

  /** The container with `address` on `network` (the source of a query). */
  byAddress(network: string, address: string): NameEntry | undefined {
    const addr = address.replace(/^::ffff:/, '');
    return this.entries(network).find((e) => e.ipv4.includes(addr) || e.ipv6.includes(addr));
  }

  /**
   * The answer to `q` from the network's names, or undefined when the name
   * is not ours (it is forwarded). A name we hold with no address of the
   * asked type is NOERROR with no answers, never NXDOMAIN.
   */
  answer(network: string, q: Question): LocalAnswer | undefined {
    const owners = this.lookup(network, q.name);
    if (owners.length > 0) {
      const answers: DnsRecord[] = [];
      if (q.type === DnsType.A || q.type === DnsType.ANY) {
        for (const e of owners) for (const data of e.ipv4) answers.push({ type: DnsType.A, ttl: ANSWER_TTL, data });
      }
      if (q.type === DnsType.AAAA || q.type === DnsType.ANY) {
        for (const e of owners) for (const data of e.ipv6) answers.push({ type: DnsType.AAAA, ttl: ANSWER_TTL, data });
      }
      return { rcode: Rcode.NOERROR, answers };
    }
    if (q.type === DnsType.PTR && q.name.endsWith('.in-addr.arpa')) {
      const owner = this.entries(network).find((e) => e.ipv4.some((ip) => reverseName(ip) === q.name));
      if (owner) return { rcode: Rcode.NOERROR, answers: [{ type: DnsType.PTR, ttl: ANSWER_TTL, data: owner.names[0] }] };
    }
    return undefined;
  }
}

/** The names a container answers to: its name, its aliases and its short ID, lower-case, once each. */
export function containerNames(name: string, aliases: readonly string[], containerId: string): string[] {
  const all = [name.replace(/^\//, ''), ...aliases, containerId.slice(0, 12)].map((n) => n.toLowerCase().replace(/\.$/, ''));
  return [...new Set(all.filter((n) => n !== ''))];
}

/** Splits CIDRs ("10.0.0.5/24", "fd00::5/64") into plain IPv4 and IPv6 addresses. */
export function splitAddresses(cidrs: readonly string[]): { ipv4: string[]; ipv6: string[] } {
  const plain = cidrs.map((c) => c.replace(/\/\d+$/, ''));
  return { ipv4: plain.filter((a) => net.isIPv4(a)), ipv6: plain.filter((a) => net.isIPv6(a)) };
}
