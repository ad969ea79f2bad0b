/**
 * Process checks through /proc, for processes gantryd did not start or no
 * longer parents (conmon daemons, container init processes).
 *
 * Why not `process.kill(pid, 0)`: it succeeds on a zombie, and on this kind
 * of host PID 1 reaps orphans lazily (exited conmons stay `Z` for seconds),
 * so "signal 0 works" does not mean "still running". The state letter in
 * /proc/<pid>/stat does.
 *
 * PIDs are reused; callers that keep a PID across a daemon restart should
 * confirm identity with `isMonitorOf` (or the container's runc state) before
 * acting on it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { procStatFields } from '../util/procIdentity';

export interface ProcStat {
  /** One letter: R running, S sleeping, D disk sleep, T stopped, Z zombie, X dead … */
  readonly state: string;
  readonly ppid: number;
}

/** Fields of /proc/<pid>/stat, or undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  const rest = procStatFields(pid);
  return rest && { state: rest[0] ?? '', ppid: Number(rest[1]) };
}

/** True while `pid` exists and has not exited (zombies count as exited). */
export function processAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X' && st.state !== 'x';
}

/** argv of a process (NUL-separated /proc/<pid>/cmdline), or undefined when it is gone. */
export function processArgv(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a, i, all) => i < all.length - 1 || a !== '');
  } catch {
    return undefined;
  }
}

/** True when `pid` is a live conmon monitoring container `id` (guards against PID reuse). */
export function isMonitorOf(pid: number, id: string): boolean {
  if (!processAlive(pid)) return false;
  const argv = processArgv(pid);
  if (!argv || argv.length === 0 || path.basename(argv[0]) !== 'conmon') return false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '-c' || a === '--cid') && argv[i + 1] === id) return true;
    if (a === `--cid=${id}`) return true;
  }
  return false;
}

/** Reads a PID file written without a newline (conmon.pid, pidfile); undefined when missing or garbled. */
export async function readPidFile(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Every live descendant of `pid` (children first, then theirs), from the ppid fields in /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procStat(Number(entry));
    if (!st) continue;
    const list = children.get(st.ppid) ?? [];
    list.push(Number(entry));
    children.set(st.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}
