/**
 * The rootless namespace holder (docs/rootless.md, "Containers outlive the
 * daemon"): RootlessKit runs `catatonit -P` as its child, so the user,
 * mount and network namespaces (and slirp4netns, and the port driver's
 * listeners in RootlessKit's parent) live as long as that pause process, not
 * as long as gantryd. `gantry daemon` finds a live holder or starts one, and
 * runs the real daemon inside its namespaces with nsenter (reexec.ts), as
 * Podman's rootless pause process.
 *
 * catatonit rather than a `gantry` command of ours: it is what Podman runs
 * there, a static binary of a few hundred kilobytes instead of a Node
 * process (tens of megabytes, for as long as containers run), it ignores
 * SIGINT and exits on SIGTERM, and gantryd already needs it (Debian's
 * `catatonit`, the CRI's pod infra process).
 *
 * Three processes (RootlessKit runs its command as a child, not by exec):
 *   rootlesskit --state-dir=<state>/rootlesskit …      (outside: slirp4netns, port driver, api.sock)
 *     └─ /proc/self/exe --state-dir=… -- catatonit -P   (RootlessKit's child: `child_pid`, in the namespaces)
 *          └─ catatonit -P                              (the holder)
 * They are found through RootlessKit's `child_pid` file, and its pid is
 * trusted only when /proc says it is ours for this state dir: run by this
 * user, in a user namespace other than ours, with `ROOTLESSKIT_STATE_DIR` of
 * this state dir in its environment and `--state-dir=` of it and `catatonit
 * -P` as its command, a RootlessKit of that state dir as its parent and a
 * `catatonit -P` as its child. A dead pid, or one the kernel gave to another
 * process since, is not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition } from '../../errdefs/errdefs';
import type { Logger } from '../../util/log';
import { findTool } from './prerequisites';
import { ROOTLESS_NET_ENV, ROOTLESSKIT_STATE_ENV, type RootlessNet } from './rootless';

/** RootlessKit's own state dir (its lock, API socket and child pid), inside gantryd's private state dir. */
export function rootlesskitStateOf(state: string): string {
  return path.join(state, 'rootlesskit');
}

/** RootlessKit's arguments, as rootless containerd passes them (docs/rootless.md). */
export function rootlesskitArgs(state: string, net: RootlessNet, command: readonly string[]): string[] {
  return [
    `--state-dir=${rootlesskitStateOf(state)}`,
    `--net=${net}`,
    // The builtin port driver needs a network namespace of our own: only with slirp4netns.
    ...(net === 'slirp4netns'
      ? ['--port-driver=builtin', '--disable-host-loopback', '--slirp4netns-sandbox=auto', '--slirp4netns-seccomp=auto']
      : []),
    // /etc and /run are writable copies inside the namespace (resolv.conf, runc's and netns's files), as rootless containerd does.
    '--copy-up=/etc',
    '--copy-up=/run',
    '--',
    ...command,
  ];
}

/** The holder's command under RootlessKit: catatonit in pause mode (no child, waits for SIGTERM). */
export function holderCommand(catatonit: string): string[] {
  return [catatonit, '-P'];
}

/** What /proc tells about a process; undefined where it cannot be read (gone, or not ours to read). */
export interface ProcView {
  cmdline(pid: number): string[] | undefined;
  environ(pid: number): string[] | undefined;
  /** Real uid (Uid: of status), parent pid, and whether it is a zombie. */
  status(pid: number): { uid: number; ppid: number; zombie?: boolean } | undefined;
  /** The link of its user namespace (`user:[4026531837]`). */
  userns(pid: number): string | undefined;
  /** Its children (`/proc/<pid>/task/<pid>/children`). */
  children(pid: number): number[];
  /** Every pid in /proc. */
  pids(): number[];
}

function nulList(file: string): string[] | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text ? text.replace(/\0$/, '').split('\0') : [];
  } catch {
    return undefined;
  }
}

export const procView: ProcView = {
  cmdline: (pid) => nulList(`/proc/${pid}/cmdline`),
  environ: (pid) => nulList(`/proc/${pid}/environ`),
  status: (pid) => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const uid = /^Uid:\s+(\d+)/m.exec(text);
      const ppid = /^PPid:\s+(\d+)/m.exec(text);
      return uid && ppid ? { uid: Number(uid[1]), ppid: Number(ppid[1]), zombie: /^State:\s+Z/m.test(text) } : undefined;
    } catch {
      return undefined;
    }
  },
  userns: (pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/ns/user`);
    } catch {
      return undefined;
    }
  },
  children: (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  },
  pids: () => {
    try {
      return fs
        .readdirSync('/proc')
        .filter((n) => /^\d+$/.test(n))
        .map(Number);
    } catch {
      return [];
    }
  },
};

/** Who is asking: the holder must be theirs and in another user namespace. */
export interface Asker {
  readonly uid: number;
  readonly userns: string | undefined;
}

function self(view: ProcView): Asker {
  return { uid: process.getuid?.() ?? 0, userns: view.userns(process.pid) };
}

function isHolderCommand(cmd: readonly string[] | undefined): boolean {
  return cmd?.length === 2 && path.basename(cmd[0] ?? '') === 'catatonit' && cmd[1] === '-P';
}

/**
 * Why `pid` (read from `child_pid`) is not our RootlessKit's child holding the
 * namespaces of `state` ("" when it is).
 */
export function holderProblem(pid: number, state: string, view: ProcView = procView, asker: Asker = self(view)): string {
  if (!Number.isInteger(pid) || pid <= 1) return `pid ${pid} is not a process id`;
  const rkState = rootlesskitStateOf(state);
  const stateFlag = `--state-dir=${rkState}`;
  const cmd = view.cmdline(pid);
  const status = view.status(pid);
  if (!cmd || !status) return `process ${pid} is gone`;
  const dashes = cmd.indexOf('--');
  if (!cmd.slice(0, dashes < 0 ? cmd.length : dashes).includes(stateFlag) || !isHolderCommand(cmd.slice(dashes + 1)))
    return `process ${pid} is not RootlessKit's child running catatonit -P for ${rkState} (${cmd.join(' ')})`;
  if (status.uid !== asker.uid) return `process ${pid} belongs to uid ${status.uid}, not ${asker.uid}`;
  const ns = view.userns(pid);
  if (!ns || ns === asker.userns) return `process ${pid} is not in a user namespace of its own`;
  if (!view.environ(pid)?.includes(`${ROOTLESSKIT_STATE_ENV}=${rkState}`))
    return `process ${pid} has no ${ROOTLESSKIT_STATE_ENV} of ${rkState}`;
  const parent = view.cmdline(status.ppid);
  if (!parent || path.basename(parent[0] ?? '') !== 'rootlesskit' || !parent.includes(stateFlag))
    return `process ${pid}'s parent ${status.ppid} is not RootlessKit for ${rkState}`;
  if (!view.children(pid).some((c) => isHolderCommand(view.cmdline(c)))) return `process ${pid} has no catatonit -P child`;
  return '';
}

/** A live holder: the namespaces' pid (RootlessKit's child), catatonit's, RootlessKit's, and the network it gave the namespaces. */
export interface Holder {
  /** RootlessKit's child (`child_pid`): nsenter's target. */
  readonly nsPid: number;
  /** catatonit -P, the holder proper: SIGTERM ends it, then RootlessKit. */
  readonly pid: number;
  readonly rootlesskitPid: number;
  readonly net: RootlessNet;
  /** RootlessKit's state dir (api.sock). */
  readonly rootlesskitState: string;
}

function childPidFile(state: string): string {
  return path.join(rootlesskitStateOf(state), 'child_pid');
}

/** The live holder of `state`, when RootlessKit's child_pid names one that passes holderProblem. */
export function findHolder(state: string, view: ProcView = procView, log?: Logger, asker: Asker = self(view)): Holder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(childPidFile(state), 'utf8').trim();
  } catch {
    return undefined;
  }
  const nsPid = Number(text);
  const problem = holderProblem(nsPid, state, view, asker);
  if (problem) {
    log?.info('rootless: no namespace holder there, starting a new one', { pidFile: childPidFile(state), reason: problem });
    return undefined;
  }
  const pid = view.children(nsPid).find((c) => isHolderCommand(view.cmdline(c))) ?? 0;
  const env = view.environ(nsPid) ?? [];
  const net: RootlessNet = env.includes(`${ROOTLESS_NET_ENV}=slirp4netns`) ? 'slirp4netns' : 'host';
  return { nsPid, pid, rootlesskitPid: view.status(nsPid)?.ppid ?? 0, net, rootlesskitState: rootlesskitStateOf(state) };
}

const POLL_MS = 25;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts RootlessKit with the holder as its child, in a session of its own
 * (it outlives this process; a terminal's Ctrl-C does not reach it), and
 * resolves once the holder runs in its namespaces and RootlessKit's API
 * socket is there. RootlessKit's output goes to `<state>/ns-holder.log`.
 */
export async function startHolder(state: string, net: RootlessNet, log: Logger, view: ProcView = procView): Promise<Holder> {
  const rootlesskit = findTool('rootlesskit');
  const catatonit = findTool('catatonit');
  if (!rootlesskit || !catatonit) throw failedPrecondition('rootlesskit and catatonit are needed for a rootless gantryd');
  // A child_pid of a RootlessKit that is gone must not be read as the new one's.
  fs.rmSync(childPidFile(state), { force: true });
  const logFile = path.join(state, 'ns-holder.log');
  const out = fs.openSync(logFile, 'w', 0o600);
  let exited: string | undefined;
  let child: ChildProcess;
  try {
    child = spawn(rootlesskit, rootlesskitArgs(state, net, holderCommand(catatonit)), {
      detached: true,
      stdio: ['ignore', out, out],
      // It may outlive this process by days: it keeps no directory of the user's busy.
      cwd: '/',
      env: { ...process.env, [ROOTLESS_NET_ENV]: net },
    });
    child.once('error', (e) => (exited = e.message));
    child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
    child.unref();
    log.info('rootless: starting the namespace holder under RootlessKit', { rootlesskit, pid: child.pid, net, state });
  } finally {
    fs.closeSync(out);
  }
  const api = path.join(rootlesskitStateOf(state), 'api.sock');
  for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline; await sleep(POLL_MS)) {
    if (exited) break;
    const holder = findHolder(state, view);
    if (holder && fs.existsSync(api)) return holder;
  }
  // Not ready: RootlessKit ends its child (and slirp4netns) on SIGTERM.
  if (!exited) child.kill('SIGTERM');
  const why = exited ?? `not ready after ${START_TIMEOUT_MS / 1000} s`;
  throw failedPrecondition(`RootlessKit (the rootless namespace holder) ${why}: ${tail(logFile) || `see ${logFile}`}`);
}

/**
 * Live processes in the holder's user namespace other than the holder and
 * RootlessKit's own (its child, and slirp4netns, which RootlessKit starts and
 * which joins the namespace): the containers, their conmons, a daemon still
 * running.
 */
export function othersInNamespace(holder: Holder, view: ProcView = procView): number[] {
  const ns = view.userns(holder.nsPid);
  if (!ns) return [];
  return view.pids().filter((p) => {
    if (p === holder.pid || p === holder.nsPid || view.userns(p) !== ns) return false;
    const status = view.status(p);
    return status !== undefined && !status.zombie && status.ppid !== holder.rootlesskitPid;
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * After the daemon stopped: ends the holder (and with it RootlessKit,
 * slirp4netns and the exposed ports) when nothing else lives in its
 * namespaces; keeps it for running containers, whose mounts and network are
 * there, so the next gantryd adopts them. Resolves with whether it stopped it.
 */
export async function stopHolderIfIdle(state: string, holder: Holder, log: Logger, view: ProcView = procView): Promise<boolean> {
  // The pid is checked again: the daemon may have run for weeks.
  const problem = holderProblem(holder.nsPid, state, view);
  if (problem) {
    log.warn('rootless: the namespace holder is not ours any more, left alone', { reason: problem });
    return false;
  }
  const others = othersInNamespace(holder, view);
  if (others.length > 0) {
    const commands = others.slice(0, 5).map((p) => (view.cmdline(p) ?? []).join(' '));
    log.info('rootless: containers still run, the namespace holder stays for the next gantryd', {
      holder: holder.pid,
      processes: others.length,
      commands,
    });
    return false;
  }
  // catatonit -P exits on SIGTERM; RootlessKit's child and RootlessKit follow it (and take slirp4netns with them).
  if (holder.pid > 1) process.kill(holder.pid, 'SIGTERM');
  for (const deadline = Date.now() + STOP_TIMEOUT_MS; Date.now() < deadline; await sleep(POLL_MS)) {
    if (![holder.pid, holder.nsPid, holder.rootlesskitPid].some((p) => p > 1 && alive(p))) return true;
  }
  log.warn('rootless: RootlessKit did not exit after its namespace holder', { holder: holder.pid, rootlesskit: holder.rootlesskitPid });
  return true;
}
