/**
 * Creating a task under conmon (the handshake drawn in tasks.ts), and
 * talking to a running conmon through its files.
 *
 * createTask spawns conmon with two socketpairs: fd 3 (_OCI_SYNCPIPE), on
 * which conmon reports one JSON line, and fd 4 (_OCI_STARTPIPE), on which it
 * waits for a byte before it forks, so a caller can move it into a cgroup
 * first (`beforeStart`). After the byte conmon's parent exits 0 at once — that
 * says nothing — and the daemonised child runs `runc create`, then writes
 * `{"data": <pid>}` or `{"data": -1, "message": <runc's stderr>}`. EOF with
 * no line means conmon died first. We read exactly one line and never wait
 * for EOF: the daemon keeps fd 3 open for its whole life.
 *
 * On failure, abort or timeout nothing is left behind: once conmon may have
 * forked we still wait (10 s) for its answer, so `runc create` cannot finish
 * after our cleanup — and if none comes (a hook that hangs), conmon and
 * everything under it are SIGKILLed and the half-made task's cgroups removed
 * (cgroups.ts). Then `runc delete -f`, wait for the monitor to go, and remove
 * `attach`/`ctl`/`winsz` and the exit record it wrote (a deleted `created`
 * task is recorded as 137), so no exit is reported for a task that never ran.
 *
 * Errors: InvalidArgument (bad options; an entrypoint runc cannot exec),
 * NotFound (no config.json), AlreadyExists (runc knows the ID),
 * FailedPrecondition (conmon missing; a monitor still runs in the bundle;
 * any other `runc create` failure, with runc's message), Internal (conmon
 * died without a word), Cancelled / DeadlineExceeded.
 *
 * conmon gets only `_OCI_*` and PATH in its environment: it passes its env to
 * runc (not to the container, whose env is config.json's), and an inherited
 * long TMPDIR would break `-t` (its console socket goes to $TMPDIR, /tmp
 * without it, and must fit in 108 bytes).
 *
 * Control: `<bundle>/ctl` is a fifo conmon reads while it lives. Opening it
 * O_WRONLY|O_NONBLOCK fails with ENXIO once no conmon reads it — that is
 * both the liveness check and why writes never block on a dead monitor.
 * Each message is one write() (conmon mishandles two lines in one read).
 */
import { startFailureReason } from './startErrors';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { cleanupSignal, type Ctx } from '../context';
import {
  GantryError,
  alreadyExists,
  failedPrecondition,
  internal,
  invalidArgument,
  isGantryError,
  notFound,
  type ErrorKind,
} from '../errdefs/errdefs';
import { cgroupDirsOf, removeCgroupDirs } from './cgroups';
import { descendants, isMonitorOf, processAlive, readPidFile } from './proc';
import { Runc, RUNTIME_ENV, runtimeMessage } from './runc';
import type { CreateTaskOptions, CreatedTask } from './tasks';

// The persist dir's `oom` is conmon's too; exits.ts reads it, re-exported here for callers of createTask.
export { wasOomKilled } from './exits';

/** runc's ID alphabet, minus names the exit watcher would take for conmon's temp files (`<id>.XXXXXX`). */
const ID_RE = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;
const TEMP_NAME_RE = /\.[A-Za-z0-9]{6}$/;

/** How long an aborted or failed create waits for conmon's answer and exit before cleaning up anyway. */
const SETTLE_MS = 10_000;

/** Creates the task (status `created`); the caller runs `runc start`. See the file comment. */
export async function createTask(ctx: Ctx, opts: CreateTaskOptions): Promise<CreatedTask> {
  validate(opts);
  const runc = new Runc({ binary: opts.runcPath, root: opts.runcRoot });
  try {
    await fs.promises.access(path.join(opts.bundle, 'config.json'));
  } catch (e) {
    throw notFound(`create task ${opts.id}: no config.json in bundle ${opts.bundle}`, e);
  }
  if (await runc.state(opts.id, ctx)) throw alreadyExists(`create task ${opts.id}: runc already has a task with this ID`);
  if (monitorAlive(opts.bundle)) throw failedPrecondition(`create task ${opts.id}: a monitor is still running in ${opts.bundle}`);

  for (const dir of [opts.exitDir, opts.persistDir, path.dirname(opts.logPath)]) await fs.promises.mkdir(dir, { recursive: true });
  // Leftovers of an earlier run in the same bundle: a stale conmon.pid must
  // not be read as the new monitor's, and an old exit record would be taken
  // for this task's exit. The caller records exits before re-creating.
  await removeAll([...bundleLeftovers(opts.bundle), 'conmon.pid', 'pidfile'].map((f) => path.resolve(opts.bundle, f)));
  await removeExitRecords(opts);

  const deadline = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  const signal = AbortSignal.any([ctx.signal, deadline]);
  const stopped = () =>
    ctx.signal.aborted
      ? new GantryError('Cancelled', `create task ${opts.id}: cancelled`)
      : new GantryError('DeadlineExceeded', `create task ${opts.id}: no answer from conmon after ${opts.timeoutMs ?? 60_000} ms`);
  if (signal.aborted) throw stopped();

  const child = spawn(opts.conmonPath, conmonArgs(opts), {
    cwd: opts.bundle, // conmon writes `oom` relative to its cwd
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { ...RUNTIME_ENV, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
  });
  const hs = new Handshake(child);

  // Phase 1: conmon waits for the start byte; killing it leaves nothing.
  try {
    const pid = await hs.spawned;
    if (opts.beforeStart) await raceAbort(opts.beforeStart(pid), signal, stopped);
    if (signal.aborted) throw stopped();
  } catch (e) {
    child.kill('SIGKILL');
    await hs.exited;
    hs.dispose();
    await removeAll(bundleLeftovers(opts.bundle));
    throw hs.spawnError ?? e;
  }

  // Phase 2: conmon forks and runs `runc create`. From here on the outcome
  // must be awaited even when aborted, so cleanup comes after it.
  hs.release();
  let line: string | undefined;
  let err: unknown;
  let stuck = false;
  try {
    line = await raceAbort(hs.line, signal, stopped);
  } catch (e) {
    err = e;
    line = await withTimeout(hs.line, SETTLE_MS).catch(() => {
      stuck = true;
      return undefined;
    });
  }
  await withTimeout(hs.exited, SETTLE_MS).catch(() => undefined);
  if (line === undefined) await withTimeout(hs.stderrDone, 1000).catch(() => undefined);
  const monitorPid = await readPidFile(path.join(opts.bundle, 'conmon.pid'));
  // `runc create` that never answers (a hung hook): stop it and everything
  // under the monitor, or it would create the task after our cleanup. runc
  // init may already sit in the task's cgroups, which `runc delete` cannot
  // remove without the state runc had no time to write: note them first.
  let orphanCgroups: string[] = [];
  if (stuck && monitorPid && isMonitorOf(monitorPid, opts.id)) {
    const tree = descendants(monitorPid);
    const own = new Set(await cgroupDirsOf(monitorPid)); // gantryd's too: never these
    orphanCgroups = (await Promise.all(tree.map(cgroupDirsOf))).flat().filter((d) => !own.has(d));
    for (const p of [monitorPid, ...tree]) killQuietly(p);
  }

  let result: CreatedTask | undefined;
  if (err === undefined) {
    try {
      result = { pid: parseSyncLine(opts.id, line, hs.stderr), monitorPid: monitorPid ?? 0 };
      if (!monitorPid) throw internal(`create task ${opts.id}: conmon wrote no conmon.pid`);
    } catch (e) {
      err = e;
    }
  }
  hs.dispose();
  if (err === undefined && result) return result;

  const cleanup = await cleanupFailedCreate(runc, opts, monitorPid, orphanCgroups).then(
    () => undefined,
    (e: unknown) => ({ failed: e }),
  );
  if (cleanup === undefined) throw err;
  const base = isGantryError(err) ? err : internal(String(err), err);
  throw new GantryError(base.kind, `${base.message} (cleanup failed: ${String(cleanup.failed)})`, { cause: err });
}

/** conmon's argv (docs/conmon.md §1 explains every flag). */
function conmonArgs(opts: CreateTaskOptions): string[] {
  const args = [
    '--api-version',
    '1',
    '-c',
    opts.id,
    '-u',
    opts.id,
    '-n',
    opts.id,
    '-r',
    opts.runcPath,
    '-b',
    opts.bundle,
    '-p',
    path.join(opts.bundle, 'pidfile'),
    '-P',
    path.join(opts.bundle, 'conmon.pid'),
    '-l',
    `k8s-file:${opts.logPath}`,
    '--exit-dir',
    opts.exitDir,
    '--persist-dir',
    opts.persistDir,
    '--full-attach', // socket at <bundle>/attach, no socket dir or symlink
    '--runtime-arg',
    `--root=${opts.runcRoot}`,
    '--runtime-arg',
    '--log-format=json', // runc's error reaches the sync line as JSON
    '--syslog', // after daemonising, syslog is conmon's only voice
  ];
  if (opts.logSizeMax > 0) args.push('--log-size-max', String(opts.logSizeMax));
  if (opts.tty) args.push('-t');
  if (opts.stdin) args.push('-i');
  if (opts.leaveStdinOpen) args.push('--leave-stdin-open');
  return args;
}

/** The pid of `{"data": pid}`, or the failure `{"data": -1, "message"}` / EOF stands for. */
function parseSyncLine(id: string, line: string | undefined, stderr: string): number {
  if (line === undefined) {
    const why = stderr.trim() || 'no message (see syslog)';
    throw internal(`create task ${id}: conmon exited before reporting: ${why}`);
  }
  let msg: { data?: unknown; message?: unknown };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch (e) {
    throw internal(`create task ${id}: conmon sent a malformed line: ${line.slice(0, 200)}`, e);
  }
  if (typeof msg.data === 'number' && Number.isInteger(msg.data) && msg.data > 0) return msg.data;
  const text = runtimeMessage(typeof msg.message === 'string' ? msg.message : '').replace(/^runc create failed: /, '');
  throw new GantryError(createFailureKind(text), `create task ${id}: ${text || `runtime failed (${line.trim()})`}`, {
    reason: startFailureReason(text),
  });
}

/**
 * The only place that reads runc's prose: a process that could not be
 * exec'd (missing or non-executable entrypoint) is the user's argument, as
 * Docker treats it; runc gives no structured reason, so the text decides.
 */
function createFailureKind(message: string): ErrorKind {
  return /unable to start container process: exec: /.test(message) ? 'InvalidArgument' : 'FailedPrecondition';
}

async function cleanupFailedCreate(
  runc: Runc,
  opts: CreateTaskOptions,
  monitorPid: number | undefined,
  orphanCgroups: readonly string[],
): Promise<void> {
  const ctx = { signal: cleanupSignal() };
  await runc.delete(opts.id, { force: true }, ctx);
  await removeCgroupDirs(orphanCgroups);
  // Deleting a created task makes its monitor record 137 and exit; wait for
  // that, so the record can be removed and no exit is reported for a task
  // that never started.
  if (monitorPid) await waitUntil(() => !processAlive(monitorPid) || !monitorAlive(opts.bundle), SETTLE_MS);
  await removeAll(bundleLeftovers(opts.bundle));
  await removeExitRecords(opts);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function bundleLeftovers(bundle: string): string[] {
  return ['attach', 'ctl', 'winsz'].map((f) => path.join(bundle, f));
}

async function removeExitRecords(opts: CreateTaskOptions): Promise<void> {
  await removeAll([path.join(opts.exitDir, opts.id), path.join(opts.persistDir, 'exit'), path.join(opts.persistDir, 'oom')]);
}

function validate(opts: CreateTaskOptions): void {
  if (!ID_RE.test(opts.id) || TEMP_NAME_RE.test(opts.id) || opts.id.length > 1024) {
    throw invalidArgument(`invalid task ID "${opts.id}"`);
  }
  for (const key of ['bundle', 'conmonPath', 'runcPath', 'runcRoot', 'logPath', 'exitDir', 'persistDir'] as const) {
    if (!path.isAbsolute(opts[key])) throw invalidArgument(`create task ${opts.id}: ${key} must be an absolute path`);
  }
  if (!Number.isSafeInteger(opts.logSizeMax) || opts.logSizeMax < 0) {
    throw invalidArgument(`create task ${opts.id}: logSizeMax must be a non-negative integer`);
  }
}

// ── the handshake with conmon's parent process ────────────────────────────

/** conmon's pipes: the sync line, the start byte, the parent's exit and its stderr. */
class Handshake {
  readonly spawned: Promise<number>;
  readonly line: Promise<string | undefined>;
  readonly exited: Promise<void>;
  /** conmon's stdout and stderr are both at EOF (its parent exited, the daemon's stdio is /dev/null). */
  readonly stderrDone: Promise<unknown>;
  stderr = '';
  spawnError: GantryError | undefined;

  constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    this.spawned = new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (e: NodeJS.ErrnoException) => {
        this.spawnError =
          e.code === 'ENOENT' ? failedPrecondition(`conmon not found at ${child.spawnfile}`, e) : internal(`conmon: ${e.message}`, e);
        reject(this.spawnError);
      });
    });
    const ends: Promise<void>[] = [];
    for (const s of [child.stdout!, child.stderr!]) {
      s.setEncoding('utf8').on('data', (t: string) => {
        if (this.stderr.length < 8192) this.stderr += t;
      });
      ends.push(new Promise((resolve) => s.once('close', () => resolve())));
    }
    this.stderrDone = Promise.all(ends);
    const sync = child.stdio[3] as Readable;
    this.line = new Promise((resolve) => {
      let buf = '';
      sync.setEncoding('utf8');
      sync.on('data', (t: string) => {
        buf += t;
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      // EOF (or a reset) without a whole line: conmon died before reporting.
      sync.once('end', () => resolve(undefined));
      sync.once('close', () => resolve(undefined));
      sync.on('error', () => resolve(undefined));
    });
    (child.stdio[4] as Writable).on('error', () => undefined); // EPIPE if conmon died already
  }

  /** The start byte: conmon forks and runs `runc create`. */
  release(): void {
    (this.child.stdio[4] as Writable).end(Buffer.from([0]));
  }

  /** Lets go of conmon: it keeps its ends, gantryd keeps nothing and may exit. */
  dispose(): void {
    for (const s of this.child.stdio) (s as Readable | Writable | null)?.destroy();
    this.child.unref();
  }
}

// ── control fifo and liveness ─────────────────────────────────────────────

/** True while a conmon reads `<bundle>/ctl` (see the file comment). Cheap: one open(2). */
export function monitorAlive(bundle: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path.join(bundle, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') return false;
    throw e;
  }
  fs.closeSync(fd);
  return true;
}

/**
 * Writes one control message (`<type> <a> <b>\n`) in one write(2). Never
 * blocks: FailedPrecondition when no monitor is running.
 */
export function writeControl(bundle: string, message: string): void {
  if (!/^\d+ -?\d+ -?\d+\n$/.test(message)) throw invalidArgument(`malformed control message ${JSON.stringify(message)}`);
  let fd: number;
  try {
    fd = fs.openSync(path.join(bundle, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') throw failedPrecondition('container monitor is not running', e);
    throw internal(`open ${bundle}/ctl: ${(e as Error).message}`, e);
  }
  try {
    const buf = Buffer.from(message);
    // Below PIPE_BUF a fifo write is all or nothing; EAGAIN means conmon is not reading.
    if (fs.writeSync(fd, buf) !== buf.length) throw internal(`short write to ${bundle}/ctl`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') throw new GantryError('Unavailable', 'container monitor is not reading its control fifo', { cause: e });
    // conmon closes its end of ctl just before it exits: the monitor is gone.
    if (code === 'EPIPE') throw failedPrecondition('container monitor is not running', e);
    if (isGantryError(e)) throw e;
    throw internal(`write ${bundle}/ctl: ${(e as Error).message}`, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** Sets the pty size of a `-t` task (conmon applies it and the kernel sends SIGWINCH). */
export function resizeTerminal(bundle: string, rows: number, cols: number): void {
  for (const [name, v] of [
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw invalidArgument(`terminal ${name} must be 1..65535, got ${v}`);
  }
  writeControl(bundle, `1 ${rows} ${cols}\n`);
}

/** Makes conmon reopen its log file (after the caller moved it away to rotate it). */
export function reopenLog(bundle: string): void {
  writeControl(bundle, '2 0 0\n');
}

// ── small helpers ─────────────────────────────────────────────────────────

async function removeAll(files: string[]): Promise<void> {
  await Promise.all(files.map((f) => fs.promises.rm(f, { force: true })));
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(reason());
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return raceAbort(p, AbortSignal.timeout(ms), () => new Error('timed out'));
}

async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
