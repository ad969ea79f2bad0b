/**
 * A container's resource usage, read from its cgroup, as `docker stats` shows it.
 *
 * Layouts. cgroup v1 (and the "hybrid" layout on this host: /sys/fs/cgroup is
 * a tmpfs holding one v1 hierarchy per controller plus an empty v2 `unified`)
 * keeps each controller in its own tree; cgroup v2 (/sys/fs/cgroup is
 * cgroup2fs) has one tree with every controller's files in one directory.
 * The layout is read once from /proc/self/mountinfo: v1 when a v1 hierarchy
 * with memory, cpuacct or pids is mounted, else v2.
 *
 * Which cgroup. `cgroupPath` is the container's `linux.cgroupsPath` (absolute,
 * e.g. `/gantry/<id>`), resolved under each hierarchy's mount point. With an
 * empty path, runc put the container under its parent's cgroup
 * (docs/conmon.md §12); then `pid` (the container's init) locates it through
 * /proc/<pid>/cgroup. `pid` also gives network counters (/proc/<pid>/net/dev,
 * the container's network namespace).
 *
 * Numbers follow Docker: memory "used" is usage minus inactive page cache
 * (total_inactive_file on v1, inactive_file on v2: what the CLI subtracts);
 * an unlimited memory limit reads as the host's memory; the CPU percentage is
 * Δcontainer CPU / Δhost CPU (all CPUs, from /proc/stat) × online CPUs × 100.
 * Reading costs a dozen small file reads; nothing is cached but the layout.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { notFound } from '../errdefs/errdefs';

/** USER_HZ: the unit of /proc/stat and cpuacct.stat; 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS;

export interface CgroupMount {
  readonly mountPoint: string;
  /** The hierarchy path mounted there (`/` on a host; deeper inside a container). */
  readonly root: string;
}

export interface CgroupLayout {
  readonly version: 1 | 2;
  /** v1 controller → its hierarchy's mount (cpu and cpuacct may share one). */
  readonly v1: ReadonlyMap<string, CgroupMount>;
  /** The v2 hierarchy, when mounted (the whole tree on v2; the empty `unified` in hybrid). */
  readonly unified?: CgroupMount;
}

export interface CpuStats {
  /** CPU time used by the container's processes, in ns (cumulative). */
  readonly usageNs: number;
  readonly userNs: number;
  readonly systemNs: number;
  /** The host's total CPU time (all CPUs, busy and idle) since boot in ns: cpuPercent's denominator. */
  readonly hostNs: number;
  readonly onlineCpus: number;
  /** CFS quota enforcement: periods, periods throttled, time throttled (ns). */
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledNs: number;
}

export interface MemoryStats {
  /** Everything charged to the cgroup, page cache included. */
  readonly usage: number;
  /** What `docker stats` shows: usage minus inactive page cache. */
  readonly used: number;
  readonly cache: number;
  readonly inactiveFile: number;
  /** The limit, or the host's memory when there is none (as Docker reports it). */
  readonly limit: number;
  readonly limited: boolean;
  /** Anonymous memory (v2 `anon`, v1 `total_rss`): the CRI's rss_bytes. */
  readonly rss: number;
  /** Page faults and major page faults (cumulative). */
  readonly pageFaults: number;
  readonly majorPageFaults: number;
}

/** One interface of /proc/<pid>/net/dev. */
export interface InterfaceStats {
  readonly name: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
}

export interface ContainerStats {
  readonly read: Date;
  readonly cgroupVersion: 1 | 2;
  readonly cpu: CpuStats;
  readonly memory: MemoryStats;
  /** Processes (and threads) in the cgroup; limit 0 = none. */
  readonly pids: { readonly current: number; readonly limit: number };
  readonly blockIo: { readonly readBytes: number; readonly writeBytes: number };
  /** Summed over the container's interfaces except lo; only when `pid` was given and still runs. */
  readonly network?: {
    readonly rxBytes: number;
    readonly txBytes: number;
    readonly rxPackets: number;
    readonly txPackets: number;
    /** Each interface but lo. */
    readonly interfaces: readonly InterfaceStats[];
  };
}

/** The cgroup mounts of this host; from a mountinfo text so tests can give their own. */
export function parseMountinfo(text: string): CgroupLayout {
  const v1 = new Map<string, CgroupMount>();
  let unified: CgroupMount | undefined;
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional…] - fstype source superoptions
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const f = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const mount = { root: unescapeMount(f[3]), mountPoint: unescapeMount(f[4]) };
    if (fstype === 'cgroup2') unified ??= mount;
    else if (fstype === 'cgroup') {
      for (const opt of superOptions.split(',')) if (!['rw', 'ro'].includes(opt) && !opt.includes('=')) v1.set(opt, mount);
    }
  }
  const version = ['memory', 'cpuacct', 'pids'].some((c) => v1.has(c)) ? 1 : 2;
  return { version, v1, unified };
}

let hostLayout: Promise<CgroupLayout> | undefined;

export function cgroupLayout(): Promise<CgroupLayout> {
  hostLayout ??= fs.promises.readFile('/proc/self/mountinfo', 'utf8').then(parseMountinfo);
  return hostLayout;
}

/**
 * One sample. NotFound when the cgroup does not exist (the container is not
 * running, or was never started) or, with an empty cgroupPath, when `pid` is gone.
 */
export async function readStats(cgroupPath: string, pid?: number, opts: { layout?: CgroupLayout } = {}): Promise<ContainerStats> {
  const layout = opts.layout ?? (await cgroupLayout());
  const fromPid = cgroupPath ? undefined : await pidCgroups(pid);
  const dirOf = (mount: CgroupMount | undefined, controller: string): string | undefined => {
    if (!mount) return undefined;
    const inner = fromPid ? fromPid.get(layout.version === 2 ? '' : controller) : cgroupPath;
    return inner === undefined ? undefined : underMount(mount, inner);
  };
  const [cpuNow, onlineCpus, network] = await Promise.all([hostCpuNs(), countOnlineCpus(), pid ? readNetwork(pid) : undefined]);
  const base = { read: new Date(), hostNs: cpuNow, onlineCpus, network };

  if (layout.version === 2) {
    const dir = dirOf(layout.unified, '');
    if (!dir || !(await exists(dir))) throw notFound(`cgroup ${cgroupPath || `of pid ${pid}`} not found`);
    return readV2(dir, base);
  }
  const dirs = {
    memory: dirOf(layout.v1.get('memory'), 'memory'),
    cpuacct: dirOf(layout.v1.get('cpuacct'), 'cpuacct'),
    cpu: dirOf(layout.v1.get('cpu'), 'cpu'),
    pids: dirOf(layout.v1.get('pids'), 'pids'),
    blkio: dirOf(layout.v1.get('blkio'), 'blkio'),
  };
  for (const d of [dirs.memory, dirs.cpuacct, dirs.pids]) {
    if (d !== undefined && !(await exists(d))) throw notFound(`cgroup ${cgroupPath || `of pid ${pid}`} not found (${d})`);
  }
  return readV1(dirs, base);
}

type Base = { read: Date; hostNs: number; onlineCpus: number; network: ContainerStats['network'] };

async function readV1(d: Record<'memory' | 'cpuacct' | 'cpu' | 'pids' | 'blkio', string | undefined>, b: Base): Promise<ContainerStats> {
  const at = (dir: string | undefined, file: string) => (dir ? path.join(dir, file) : undefined);
  const [usage, rawLimit, memStat, cpuUsage, cpuUser, cpuSys, cpuacctStat, cpuStat, pidsCurrent, pidsMax, blkio] = await Promise.all([
    readNumber(at(d.memory, 'memory.usage_in_bytes')),
    readNumber(at(d.memory, 'memory.limit_in_bytes')),
    readKeyed(at(d.memory, 'memory.stat')),
    readNumber(at(d.cpuacct, 'cpuacct.usage')),
    readNumber(at(d.cpuacct, 'cpuacct.usage_user')),
    readNumber(at(d.cpuacct, 'cpuacct.usage_sys')),
    readKeyed(at(d.cpuacct, 'cpuacct.stat')),
    readKeyed(at(d.cpu, 'cpu.stat')),
    readNumber(at(d.pids, 'pids.current')),
    readNumber(at(d.pids, 'pids.max')),
    readText(at(d.blkio, 'blkio.throttle.io_service_bytes_recursive')),
  ]);
  const inactiveFile = memStat.get('total_inactive_file') ?? memStat.get('inactive_file') ?? 0;
  // An unlimited v1 memcg reads as 2^63 rounded down to a page; anything near that is "no limit".
  const limited = rawLimit !== undefined && rawLimit < 2 ** 62;
  const io = sumBlkioV1(blkio ?? '');
  return {
    read: b.read,
    cgroupVersion: 1,
    cpu: {
      usageNs: cpuUsage ?? 0,
      userNs: cpuUser ?? (cpuacctStat.get('user') ?? 0) * NS_PER_TICK,
      systemNs: cpuSys ?? (cpuacctStat.get('system') ?? 0) * NS_PER_TICK,
      hostNs: b.hostNs,
      onlineCpus: b.onlineCpus,
      periods: cpuStat.get('nr_periods') ?? 0,
      throttledPeriods: cpuStat.get('nr_throttled') ?? 0,
      throttledNs: cpuStat.get('throttled_time') ?? 0,
    },
    memory: memory(usage ?? 0, memStat.get('total_cache') ?? memStat.get('cache') ?? 0, inactiveFile, limited ? rawLimit : undefined, {
      rss: memStat.get('total_rss') ?? memStat.get('rss') ?? 0,
      pageFaults: memStat.get('total_pgfault') ?? memStat.get('pgfault') ?? 0,
      majorPageFaults: memStat.get('total_pgmajfault') ?? memStat.get('pgmajfault') ?? 0,
    }),
    pids: { current: pidsCurrent ?? 0, limit: pidsMax ?? 0 },
    blockIo: io,
    network: b.network,
  };
}

async function readV2(dir: string, b: Base): Promise<ContainerStats> {
  const at = (file: string) => path.join(dir, file);
  const [usage, max, memStat, cpuStat, pidsCurrent, pidsMax, ioStat] = await Promise.all([
    readNumber(at('memory.current')),
    readNumber(at('memory.max')),
    readKeyed(at('memory.stat')),
    readKeyed(at('cpu.stat')),
    readNumber(at('pids.current')),
    readNumber(at('pids.max')),
    readText(at('io.stat')),
  ]);
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of (ioStat ?? '').split('\n')) {
    for (const kv of line.split(' ').slice(1)) {
      const [k, v] = kv.split('=');
      if (k === 'rbytes') readBytes += Number(v) || 0;
      if (k === 'wbytes') writeBytes += Number(v) || 0;
    }
  }
  const usec = (k: string) => (cpuStat.get(k) ?? 0) * 1000;
  return {
    read: b.read,
    cgroupVersion: 2,
    cpu: {
      usageNs: usec('usage_usec'),
      userNs: usec('user_usec'),
      systemNs: usec('system_usec'),
      hostNs: b.hostNs,
      onlineCpus: b.onlineCpus,
      periods: cpuStat.get('nr_periods') ?? 0,
      throttledPeriods: cpuStat.get('nr_throttled') ?? 0,
      throttledNs: usec('throttled_usec'),
    },
    memory: memory(usage ?? 0, memStat.get('file') ?? 0, memStat.get('inactive_file') ?? 0, max, {
      rss: memStat.get('anon') ?? 0,
      pageFaults: memStat.get('pgfault') ?? 0,
      majorPageFaults: memStat.get('pgmajfault') ?? 0,
    }),
    pids: { current: pidsCurrent ?? 0, limit: pidsMax ?? 0 },
    blockIo: { readBytes, writeBytes },
    network: b.network,
  };
}

function memory(
  usage: number,
  cache: number,
  inactiveFile: number,
  limit: number | undefined,
  more: Pick<MemoryStats, 'rss' | 'pageFaults' | 'majorPageFaults'>,
): MemoryStats {
  const host = os.totalmem();
  return {
    ...more,
    usage,
    used: inactiveFile < usage ? usage - inactiveFile : usage,
    cache,
    inactiveFile,
    limit: limit === undefined ? host : Math.min(limit, host),
    limited: limit !== undefined,
  };
}

/** Docker's CPU %: the container's share of the host's CPU time between two samples, scaled to online CPUs. */
export function cpuPercent(prev: ContainerStats, cur: ContainerStats): number {
  const container = cur.cpu.usageNs - prev.cpu.usageNs;
  const host = cur.cpu.hostNs - prev.cpu.hostNs;
  if (container <= 0 || host <= 0) return 0;
  return (container / host) * cur.cpu.onlineCpus * 100;
}

/** used / limit × 100, as `docker stats` MEM %. */
export function memoryPercent(s: ContainerStats): number {
  return s.memory.limit > 0 ? (s.memory.used / s.memory.limit) * 100 : 0;
}

/** The host's CPU time since boot (the `cpu` line of /proc/stat: user … steal) in ns. */
export async function hostCpuNs(): Promise<number> {
  const text = await fs.promises.readFile('/proc/stat', 'utf8');
  const fields = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1, 9).map(Number);
  return fields.reduce((a, b) => a + b, 0) * NS_PER_TICK;
}

/** Online CPUs from /sys/devices/system/cpu/online ("0-3,6"). */
export async function countOnlineCpus(): Promise<number> {
  const text = await readText('/sys/devices/system/cpu/online');
  if (!text) return os.cpus().length;
  let n = 0;
  for (const part of text.trim().split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    n += b - a + 1;
  }
  return n || os.cpus().length;
}

/** controller → path from /proc/<pid>/cgroup (v2's entry under ''). */
async function pidCgroups(pid: number | undefined): Promise<Map<string, string>> {
  const text = pid ? await readText(`/proc/${pid}/cgroup`) : undefined;
  if (text === undefined) throw notFound(pid ? `process ${pid} is gone` : 'no cgroup path and no pid');
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') map.set('', m[2]);
    for (const c of m[1].split(',')) if (c) map.set(c, m[2]);
  }
  return map;
}

function underMount(mount: CgroupMount, cgroup: string): string {
  const rel = path.posix.relative(mount.root, path.posix.join('/', cgroup));
  return path.join(mount.mountPoint, rel.startsWith('..') ? cgroup : rel);
}

async function readNetwork(pid: number): Promise<ContainerStats['network']> {
  const interfaces = await readInterfaces(pid);
  if (interfaces === undefined) return undefined;
  const net = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, interfaces };
  for (const i of interfaces) {
    net.rxBytes += i.rxBytes;
    net.rxPackets += i.rxPackets;
    net.txBytes += i.txBytes;
    net.txPackets += i.txPackets;
  }
  return net;
}

/** The interfaces (but lo) of `pid`'s network namespace, from /proc/<pid>/net/dev; undefined when the process is gone. */
export async function readInterfaces(pid: number): Promise<InterfaceStats[] | undefined> {
  const text = await readText(`/proc/${pid}/net/dev`);
  if (text === undefined) return undefined;
  return parseNetDev(text);
}

/** /proc/net/dev: two header lines, then `name: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets errs …`. */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    out.push({ name: name.trim(), rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], txBytes: f[8], txPackets: f[9], txErrors: f[10] });
  }
  return out;
}

function sumBlkioV1(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    const [, op, value] = line.split(' ');
    if (op === 'Read') readBytes += Number(value) || 0;
    if (op === 'Write') writeBytes += Number(value) || 0;
  }
  return { readBytes, writeBytes };
}

async function readText(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ESRCH') return undefined;
    throw e;
  }
}

/** A number file; "max" (no limit) and missing files read as undefined. */
async function readNumber(file: string | undefined): Promise<number | undefined> {
  const text = (await readText(file))?.trim();
  if (!text || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
async function readKeyed(file: string | undefined): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  for (const line of ((await readText(file)) ?? '').split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) map.set(k, Number(v));
  }
  return map;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p);
    return true;
  } catch {
    return false;
  }
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
