// Memory of a container runtime's resident processes, as the containers
// benchmark compares it: the daemon plus its per-container monitors (conmon
// for gantryd and podman, containerd-shim-runc-v2 for containerd), each read
// from /proc/<pid>/smaps_rollup. PSS, not RSS: 50 conmons or 50 shims share
// their binary's text and libraries, and PSS charges each process its share
// of those pages once, so the sum is what the runtime costs the machine.
// The containers' own processes (the `sleep`s) are not counted: they are the
// same for every tool.
import * as fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** /proc/<pid>/comm (at most 15 characters). */
  comm: string;
  argv: string[];
}

export interface ProcMem {
  pid: number;
  comm: string;
  pssKiB: number;
  rssKiB: number;
}

/** Every process still running (zombies left out), with its parent, name and argv. */
export async function listProcesses(): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const entry of await fs.promises.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = await fs.promises.readFile(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) S ppid …": comm may hold spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      if (fields[0] === 'Z') continue;
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const argv = (await fs.promises.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      out.push({ pid, ppid: Number(fields[1]), comm, argv });
    } catch {
      // gone while we looked
    }
  }
  return out;
}

/**
 * Processes named `comm` (exactly, or as a prefix when it ends in '*') whose
 * argv mentions `marker` — the run's own dir or socket, so nothing another
 * runtime on the machine runs is counted or killed.
 */
export function matching(procs: readonly ProcInfo[], comm: string, marker: string): ProcInfo[] {
  const ok = commMatcher(comm);
  return procs.filter((p) => ok(p.comm) && p.argv.some((a) => a.includes(marker)));
}

/** `comm` exactly, or as a prefix when it ends in '*'. */
function commMatcher(comm: string): (c: string) => boolean {
  return comm.endsWith('*') ? (c) => c.startsWith(comm.slice(0, -1)) : (c) => c === comm;
}

/**
 * A daemon's processes, split as the memory rows count them: `daemon` is
 * the daemon and what runs below it except its monitors (and any process
 * named in `notDaemon`, e.g. a pod's infra), `monitors` the processes named
 * `monitor` (as `matching`) that mention `marker`.
 */
export async function daemonAndMonitors(
  daemonPid: number,
  monitor: string,
  marker: string,
  notDaemon: readonly string[] = [],
): Promise<{ daemon: number[]; monitors: number[] }> {
  const procs = await listProcesses();
  const isMonitor = commMatcher(monitor);
  return {
    daemon: descendants(procs, daemonPid)
      .filter((p) => !isMonitor(p.comm) && !notDaemon.includes(p.comm))
      .map((p) => p.pid),
    monitors: matching(procs, monitor, marker).map((p) => p.pid),
  };
}

/** `root` and everything below it (by parent pid). */
export function descendants(procs: readonly ProcInfo[], root: number): ProcInfo[] {
  const found = procs.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i++) for (const p of procs) if (p.ppid === found[i].pid) found.push(p);
  return found;
}

/** PSS and RSS of one process; undefined when it is gone. */
export async function readMem(pid: number): Promise<ProcMem | undefined> {
  try {
    const [rollup, comm] = await Promise.all([
      fs.promises.readFile(`/proc/${pid}/smaps_rollup`, 'utf8'),
      fs.promises.readFile(`/proc/${pid}/comm`, 'utf8'),
    ]);
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
    return { pid, comm: comm.trim(), pssKiB: kib('Pss'), rssKiB: kib('Rss') };
  } catch {
    return undefined;
  }
}

export interface RuntimeMemory {
  /** The daemon and whatever it forked that still runs (gantryd, containerd); absent for podman and runc. */
  daemon: ProcMem[];
  /** One per container: conmon or containerd-shim-runc-v2. */
  monitors: ProcMem[];
  daemonPssKiB: number;
  monitorsPssKiB: number;
  totalPssKiB: number;
  totalRssKiB: number;
}

/** Reads the memory of the given daemon and monitor pids (those that vanished are left out). */
export async function runtimeMemory(daemonPids: readonly number[], monitorPids: readonly number[]): Promise<RuntimeMemory> {
  const read = async (pids: readonly number[]) => (await Promise.all(pids.map(readMem))).filter((m): m is ProcMem => m !== undefined);
  const daemon = await read(daemonPids);
  const monitors = await read(monitorPids);
  const sum = (ms: ProcMem[], k: 'pssKiB' | 'rssKiB') => ms.reduce((a, m) => a + m[k], 0);
  return {
    daemon,
    monitors,
    daemonPssKiB: sum(daemon, 'pssKiB'),
    monitorsPssKiB: sum(monitors, 'pssKiB'),
    totalPssKiB: sum(daemon, 'pssKiB') + sum(monitors, 'pssKiB'),
    totalRssKiB: sum(daemon, 'rssKiB') + sum(monitors, 'rssKiB'),
  };
}

/** SIGKILLs the given pids (a safety net for monitors left behind); ESRCH is fine. */
export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}
