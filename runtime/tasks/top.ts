/**
 * `docker top`: a ps-style table of a container's processes, built from
 * /proc/<pid>/{stat,status,cmdline} rather than by running ps and parsing its
 * text. The caller supplies the pids (runc ps); pids that exit meanwhile are
 * left out.
 *
 * Columns follow procps. The default is `ps -ef`'s
 * `UID PID PPID C STIME TTY TIME CMD`; `psArgs` may pick another preset
 * (`-ef`, `-f`, `-e`, `aux`) or columns (`-o pid,user,args`, `-eo …`).
 * Anything else is InvalidArgument: options of ps that select processes make
 * no sense here, and the ones that format are covered by `-o`. User names come
 * from the host's /etc/passwd, as ps on the host shows them (Docker runs ps
 * on the host); unknown uids stay numeric.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { invalidArgument } from '../errdefs/errdefs';
import { CLOCK_TICKS } from './stats';

export interface TopResult {
  readonly titles: string[];
  readonly processes: string[][];
}

/** What /proc says about one process; the columns are views of it. */
interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  pgrp: number;
  session: number;
  ttyNr: number;
  tpgid: number;
  nice: number;
  threads: number;
  /** CPU time, seconds. */
  cpuSeconds: number;
  /** Start, ms since the epoch. */
  startMs: number;
  uid: number;
  vszKiB: number;
  rssKiB: number;
  args: string[];
}

interface Env {
  nowMs: number;
  memKiB: number;
  users: Map<number, string>;
}

type Column = { title: string; value: (p: ProcInfo, env: Env) => string };

const COLUMNS: Record<string, Column> = {
  uid: { title: 'UID', value: (p) => String(p.uid) },
  user: { title: 'USER', value: (p, e) => e.users.get(p.uid) ?? String(p.uid) },
  pid: { title: 'PID', value: (p) => String(p.pid) },
  ppid: { title: 'PPID', value: (p) => String(p.ppid) },
  pgid: { title: 'PGID', value: (p) => String(p.pgrp) },
  c: { title: 'C', value: (p, e) => String(Math.min(99, Math.floor(cpuShare(p, e)))) },
  pcpu: { title: '%CPU', value: (p, e) => tenths(cpuShare(p, e)) },
  pmem: { title: '%MEM', value: (p, e) => tenths(e.memKiB > 0 ? (p.rssKiB / e.memKiB) * 100 : 0) },
  vsz: { title: 'VSZ', value: (p) => String(p.vszKiB) },
  rss: { title: 'RSS', value: (p) => String(p.rssKiB) },
  tty: { title: 'TT', value: (p) => ttyName(p.ttyNr) },
  stat: { title: 'STAT', value: statFlags },
  stime: { title: 'STIME', value: (p, e) => startTime(p.startMs, e.nowMs) },
  start: { title: 'START', value: (p, e) => startTime(p.startMs, e.nowMs) },
  time: { title: 'TIME', value: (p) => cpuTime(p.cpuSeconds) },
  bsdtime: { title: 'TIME', value: (p) => `${Math.floor(p.cpuSeconds / 60)}:${pad(Math.floor(p.cpuSeconds % 60))}` },
  etime: { title: 'ELAPSED', value: (p, e) => elapsed((e.nowMs - p.startMs) / 1000) },
  nlwp: { title: 'NLWP', value: (p) => String(p.threads) },
  comm: { title: 'COMMAND', value: (p) => p.comm },
  // ps shows control characters (a newline in `sh -c` text) as '?'.
  args: { title: 'COMMAND', value: (p) => (p.args.length > 0 ? p.args.join(' ').replace(/[\x00-\x1f\x7f]/g, '?') : `[${p.comm}]`) },
};
const ALIASES: Record<string, string> = {
  cmd: 'args',
  command: 'args',
  '%cpu': 'pcpu',
  '%mem': 'pmem',
  tt: 'tty',
  ucmd: 'comm',
  uname: 'user',
};

const col = (key: string, title?: string): Column => ({ ...COLUMNS[key], title: title ?? COLUMNS[key].title });
const PRESETS: Record<string, Column[]> = {
  '-ef': [col('user', 'UID'), col('pid'), col('ppid'), col('c'), col('stime'), col('tty', 'TTY'), col('time'), col('args', 'CMD')],
  '-e': [col('pid'), col('tty', 'TTY'), col('time'), col('comm', 'CMD')],
  aux: [
    col('user'),
    col('pid'),
    col('pcpu'),
    col('pmem'),
    col('vsz'),
    col('rss'),
    col('tty', 'TTY'),
    col('stat'),
    col('start'),
    col('bsdtime'),
    col('args'),
  ],
};
PRESETS['-f'] = PRESETS['-ef'];
PRESETS['-aux'] = PRESETS.aux;
PRESETS['-A'] = PRESETS['-e'];

/** The table for `pids` (in the order given). */
export async function top(pids: readonly number[], psArgs: string | readonly string[] = ''): Promise<TopResult> {
  const columns = parsePsArgs(typeof psArgs === 'string' ? psArgs.split(/\s+/).filter(Boolean) : [...psArgs]);
  const [users, uptime, btime] = await Promise.all([readUsers(), fs.promises.readFile('/proc/uptime', 'utf8'), bootTimeMs()]);
  const env: Env = { nowMs: btime + parseFloat(uptime) * 1000, memKiB: os.totalmem() / 1024, users };
  const infos = await Promise.all(pids.map((pid) => readProc(pid, btime)));
  return {
    titles: columns.map((c) => c.title),
    processes: infos.filter((p): p is ProcInfo => p !== undefined).map((p) => columns.map((c) => c.value(p, env))),
  };
}

function parsePsArgs(args: string[]): Column[] {
  if (args.length === 0) return PRESETS['-ef'];
  if (args.length === 1 && PRESETS[args[0]]) return PRESETS[args[0]];
  // -o a,b / -eo a,b / -o a -o b (a "-e" alongside is accepted: every pid given is shown anyway)
  const columns: Column[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-e' || a === '-A') continue;
    const m = /^-[eA]?o(.*)$/.exec(a);
    if (!m) throw invalidArgument(`ps option ${JSON.stringify(a)} is not supported (use -ef, -e, aux or -o <columns>)`);
    const list = m[1] || args[++i];
    if (!list) throw invalidArgument(`${a} needs a list of columns`);
    for (const item of list.split(',')) {
      const [name, title] = item.split('=');
      const key = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
      if (!COLUMNS[key]) throw invalidArgument(`unknown ps column ${JSON.stringify(name)} (known: ${Object.keys(COLUMNS).join(', ')})`);
      columns.push(col(key, title));
    }
  }
  return columns;
}

async function readProc(pid: number, btimeMs: number): Promise<ProcInfo | undefined> {
  let stat: string;
  let status: string;
  let cmdline: Buffer;
  try {
    [stat, status, cmdline] = await Promise.all([
      fs.promises.readFile(`/proc/${pid}/stat`, 'utf8'),
      fs.promises.readFile(`/proc/${pid}/status`, 'utf8'),
      fs.promises.readFile(`/proc/${pid}/cmdline`),
    ]);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined; // exited meanwhile
    throw e;
  }
  // "pid (comm) S ppid …": comm may hold spaces and parentheses; it ends at the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const field = (n: number) => Number(f[n - 3]);
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const args = cmdline.toString('utf8').split('\0');
  if (args[args.length - 1] === '') args.pop();
  return {
    pid,
    comm,
    state: f[0],
    ppid: field(4),
    pgrp: field(5),
    session: field(6),
    ttyNr: field(7),
    tpgid: field(8),
    cpuSeconds: (field(14) + field(15)) / CLOCK_TICKS,
    nice: field(19),
    threads: field(20),
    startMs: btimeMs + (field(22) / CLOCK_TICKS) * 1000,
    uid: Number(/^Uid:\s*(\d+)/m.exec(status)?.[1] ?? -1),
    vszKiB: kib('VmSize'),
    rssKiB: kib('VmRSS'),
    args,
  };
}

/** procps truncates percentages to one decimal. */
const tenths = (x: number) => (Math.floor(x * 10) / 10).toFixed(1);

/** procps' %CPU: CPU time over the time since the process started. */
function cpuShare(p: ProcInfo, e: Env): number {
  const seconds = (e.nowMs - p.startMs) / 1000;
  return seconds > 0 ? (p.cpuSeconds / seconds) * 100 : 0;
}

function statFlags(p: ProcInfo): string {
  let s = p.state;
  if (p.nice < 0) s += '<';
  else if (p.nice > 0) s += 'N';
  if (p.session === p.pid) s += 's';
  if (p.threads > 1) s += 'l';
  if (p.tpgid !== -1 && p.tpgid === p.pgrp) s += '+';
  return s;
}

/** tty_nr (major in bits 8–15, minor split around it) → pts/N, ttyN, ttySN or "?". */
function ttyName(nr: number): string {
  if (!nr) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return 'console';
  return `${major}:${minor}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** procps' STIME/START: HH:MM within a day, MmmDD within a year, else the year (local time). */
function startTime(startMs: number, nowMs: number): string {
  const d = new Date(startMs);
  if (nowMs - startMs < 24 * 3600_000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (nowMs - startMs < 365 * 24 * 3600_000) return `${MONTHS[d.getMonth()]}${pad(d.getDate())}`;
  return String(d.getFullYear());
}

/** [DD-]HH:MM:SS */
function cpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  const hms = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return days > 0 ? `${days}-${hms}` : hms;
}

/** [[DD-]HH:]MM:SS */
function elapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const ms = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  if (days > 0) return `${days}-${pad(hours)}:${ms}`;
  return hours > 0 ? `${pad(hours)}:${ms}` : ms;
}

async function bootTimeMs(): Promise<number> {
  const text = await fs.promises.readFile('/proc/stat', 'utf8');
  const m = /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : Date.now() - os.uptime() * 1000;
}

async function readUsers(): Promise<Map<number, string>> {
  const users = new Map<number, string>();
  const text = await fs.promises.readFile('/etc/passwd', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}
