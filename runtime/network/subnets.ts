/**
 * IPv4 subnets: parsing, overlap, and choosing a free one for a new network.
 * A network's subnet must not overlap any route of the host (or its traffic
 * would be routed into the bridge instead of where it went before) nor any
 * other network's subnet. The candidates come from pools, Docker's by
 * default: 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/20 … (/20s).
 */
import * as fs from 'node:fs';
import { invalidArgument, resourceExhausted } from '../errdefs/errdefs';
import { run } from '../util/exec';

export interface Cidr {
  /** The network address as a 32-bit unsigned number. */
  readonly base: number;
  readonly prefix: number;
}

export interface SubnetPool {
  readonly cidr: string;
  /** The prefix length of each subnet handed out from it. */
  readonly size: number;
}

export const DEFAULT_POOLS: readonly SubnetPool[] = [
  { cidr: '172.17.0.0/16', size: 16 },
  { cidr: '172.18.0.0/15', size: 16 },
  { cidr: '172.20.0.0/14', size: 16 },
  { cidr: '172.24.0.0/13', size: 16 },
  { cidr: '192.168.0.0/16', size: 20 },
];

export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.2.3/16" → {base: 10.1.0.0, prefix 16}; strict=true refuses host bits set. */
export function parseCidr(text: string, strict = false): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  const ip = m ? parseIPv4(m[1]) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32))
    throw invalidArgument(`invalid IPv4 subnet ${JSON.stringify(text)} (want a.b.c.d/n)`);
  const base = (ip & mask(prefix)) >>> 0;
  if (strict && base !== ip) throw invalidArgument(`invalid subnet ${text}: host bits set (did you mean ${formatIPv4(base)}/${prefix}?)`);
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base ^ b.base) & mask(p)) >>> 0 === 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.prefix)) >>> 0 === c.base;
}

/** The first host address (x.x.x.1 of a /24): the bridge's gateway by convention. */
export function firstHost(c: Cidr): string {
  return formatIPv4(c.base + 1);
}

/** The size-prefixed candidates of a pool, in order. */
export function* candidates(pool: SubnetPool): Generator<Cidr> {
  const p = parseCidr(pool.cidr, true);
  if (pool.size < p.prefix || pool.size > 30) throw invalidArgument(`pool ${pool.cidr}: size /${pool.size} does not fit`);
  const step = 2 ** (32 - pool.size);
  const count = 2 ** (pool.size - p.prefix);
  for (let i = 0; i < count; i++) yield { base: (p.base + i * step) >>> 0, prefix: pool.size };
}

/**
 * The first candidate from `pools` that overlaps nothing in `taken`.
 * `skip` candidates are passed over first (tests start at a random one, so
 * parallel runs do not race for the same subnet).
 */
export function chooseSubnet(taken: readonly Cidr[], pools: readonly SubnetPool[] = DEFAULT_POOLS, skip = 0): Cidr {
  const all: Cidr[] = [];
  for (const pool of pools) for (const c of candidates(pool)) all.push(c);
  for (let i = 0; i < all.length; i++) {
    const c = all[(i + skip) % all.length];
    if (!taken.some((t) => overlaps(t, c))) return c;
  }
  throw resourceExhausted(`no free subnet left in ${pools.map((p) => p.cidr).join(', ')}; pass --subnet`);
}

/** Destinations in /proc/net/route (hex, little-endian), default routes left out. */
export function parseProcNetRoute(text: string): Cidr[] {
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dst = Buffer.from(f[1], 'hex').readUInt32LE(0);
    const m = Buffer.from(f[7], 'hex').readUInt32LE(0);
    const prefix = m.toString(2).replace(/0/g, '').length;
    if (prefix === 0) continue;
    out.push({ base: (dst & mask(prefix)) >>> 0, prefix });
  }
  return out;
}

/** Destinations of `ip -j route` output ("default" left out; bare addresses are /32). */
export function parseIpRouteJson(text: string): Cidr[] {
  const routes = JSON.parse(text) as { dst?: string }[];
  const out: Cidr[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    try {
      out.push(parseCidr(dst));
    } catch {
      // IPv6 or odd entries (blackhole types keep dst): not ours to judge.
    }
  }
  return out;
}

/** The host's IPv4 routes (every table `ip` shows; /proc/net/route when ip is missing). */
export async function hostRoutes(): Promise<Cidr[]> {
  try {
    const r = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
    if (r.code === 0) return parseIpRouteJson(r.stdout);
  } catch {
    // fall through to /proc
  }
  return parseProcNetRoute(await fs.promises.readFile('/proc/net/route', 'utf8'));
}
