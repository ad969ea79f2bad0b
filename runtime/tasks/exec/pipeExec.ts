/**
 * Exec without a TTY: `runc exec` as a child of gantryd, as CRI-O runs
 * streaming execs.
 *
 *   gantryd ── spawn ──> runc --root R --log <dir>/runc.log --log-format json
 *                          exec --pid-file <dir>/pid --process <dir>/process.json <id>
 *        stdin  (pipe or /dev/null) ──> runc ──> process   runc copies each stream
 *        stdout (pipe) <────────────── runc <── process   through pipes of its own,
 *        stderr (pipe) <────────────── runc <── process   so they stay separate
 *        <dir>/pid appears            = the process runs (exec() resolves)
 *        runc exits without <dir>/pid = it never started (runc.log says why)
 *        runc's exit code             = the process's (128+n for signal n)
 *
 * runc exits once the process exited *and* its output pipes reached EOF
 * (verified with runc 1.1.5): like `docker exec`, a background child that
 * keeps stdout open keeps the session going. When the session is forced to
 * end (ctx aborted, e.g. a health check timeout) the process is SIGKILLed
 * and, if runc is still there FORCE_GRACE_MS later, runc too; the
 * background child then stays in the container, writing into a closed pipe.
 *
 * Signals go to the process's host pid only while it is still runc's child
 * (ppid check in /proc): runc reaps it, so after that the pid may belong to
 * someone else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { Ctx } from '../../context';
import { describe, failedPrecondition } from '../../errdefs/errdefs';
import { FrameStream, type OutputFrame, type OutputStreamName } from '../frames';
import {
  execStartError,
  exitCodeOf,
  removeSessionDir,
  runcErrorMessage,
  signalProcess,
  type ExecOptions,
  type ExecSession,
} from './session';
import { procStat } from '../proc';

const FORCE_GRACE_MS = 1000;

/** Starts the exec; `processFile` is the OCI process JSON already written into the session dir. */
export async function execRunc(ctx: Ctx, opts: ExecOptions, processFile: string): Promise<ExecSession> {
  const dir = opts.sessionDir;
  const pidFile = path.join(dir, 'pid');
  const logFile = path.join(dir, 'runc.log');
  const child = spawn(
    opts.runcPath,
    [
      '--root',
      opts.runcRoot,
      '--log',
      logFile,
      '--log-format',
      'json',
      'exec',
      '--pid-file',
      pidFile,
      '--process',
      processFile,
      opts.containerId,
    ],
    {
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      // Its own process group: a terminal's ^C to gantryd is not meant for execs.
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    },
  );
  const exited = new Promise<number | Error>((resolve) => {
    child.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
    child.once('error', (e) => resolve(e));
  });
  const session = new RuncExec(child, opts, exited);
  const onAbort = () => session.forceEnd();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const started = await waitForPid(dir, pidFile, exited);
    if (started instanceof Error) {
      throw failedPrecondition(`exec: cannot run ${opts.runcPath}: ${describe(started)}`, started);
    }
    if (started === undefined) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const log = await fs.promises.readFile(logFile, 'utf8').catch(() => '');
      throw execStartError(runcErrorMessage(log || session.stderrSoFar()));
    }
    session.started(started);
  } catch (e) {
    session.startFailed();
    await session.wait();
    await removeSessionDir(dir);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (ctx.signal.aborted) session.forceEnd();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  void session.wait().finally(() => ctx.signal.removeEventListener('abort', onAbort));
  return session;
}

/**
 * Resolves with the pid once runc wrote it, undefined when runc exited
 * without writing it, or the spawn error.
 */
async function waitForPid(dir: string, pidFile: string, exited: Promise<number | Error>): Promise<number | undefined | Error> {
  const readPid = async (): Promise<number | undefined> => {
    const text = (await fs.promises.readFile(pidFile, 'utf8').catch(() => '')).trim();
    const pid = Number(text);
    return text !== '' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  const ac = new AbortController();
  try {
    // runc writes the pid file to a temp name and renames it: once the name
    // shows up the file is complete.
    const appeared = (async () => {
      const watcher = fs.promises.watch(dir, { signal: ac.signal });
      const first = await readPid();
      if (first !== undefined) return first;
      for await (const ev of watcher) {
        if (ev.filename !== path.basename(pidFile)) continue;
        const pid = await readPid();
        if (pid !== undefined) return pid;
      }
      return undefined;
    })().catch(() => undefined);
    const result = await Promise.race([appeared, exited.then((r) => ({ exited: r }))]);
    if (typeof result === 'number') return result;
    if (result !== undefined && result.exited instanceof Error) return result.exited;
    // runc writes the pid file before it waits, so after its exit one last
    // look tells a fast process from a failed start.
    return readPid();
  } finally {
    ac.abort();
  }
}

class RuncExec implements ExecSession {
  readonly tty = false;
  readonly output: FrameStream;
  pid = 0;
  private runcExited = false;
  private stderrHead = '';
  private inputClosed: boolean;
  private readonly outcome: Promise<boolean>;
  private settleOutcome!: (started: boolean) => void;
  private readonly done: Promise<number>;

  constructor(
    private readonly child: ChildProcess,
    private readonly opts: ExecOptions,
    private readonly exited: Promise<number | Error>,
  ) {
    this.inputClosed = !opts.stdin;
    this.outcome = new Promise((resolve) => (this.settleOutcome = resolve));
    const { stdout, stderr, stdin } = child;
    this.output = new FrameStream({ onDemand: () => (stdout!.resume(), stderr!.resume()) });
    this.pipe(stdout!, 'stdout');
    this.pipe(stderr!, 'stderr');
    // EPIPE once the process is gone or closed its stdin: write() reports it.
    stdin?.on('error', () => undefined);
    stderr!.on('data', (d: Buffer) => {
      if (this.pid === 0 && this.stderrHead.length < 64 * 1024) this.stderrHead += d.toString();
    });
    this.done = this.finish();
  }

  [Symbol.asyncIterator](): AsyncIterator<OutputFrame> {
    return this.output[Symbol.asyncIterator]();
  }

  /** runc's stderr before the process started: its error message when it fails. */
  stderrSoFar(): string {
    return this.stderrHead;
  }

  started(pid: number): void {
    this.pid = pid;
    this.settleOutcome(true);
  }

  startFailed(): void {
    this.output.destroy();
    this.settleOutcome(false);
  }

  /** SIGKILL the process, and runc as well if it is still there after a grace period. */
  forceEnd(): void {
    if (this.runcExited) return;
    if (this.pid > 0) this.kill('SIGKILL');
    const runcPid = this.child.pid;
    if (runcPid === undefined) return;
    if (this.pid === 0) {
      // Not started yet: nothing in the container to kill, stop runc itself.
      signalProcess(runcPid, 'SIGKILL');
      return;
    }
    setTimeout(() => {
      if (!this.runcExited) signalProcess(runcPid, 'SIGKILL');
    }, FORCE_GRACE_MS).unref();
  }

  async write(data: Buffer | string): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin || this.inputClosed) throw failedPrecondition('exec: stdin is not open');
    if (stdin.destroyed || stdin.writableEnded) throw failedPrecondition('exec: the process closed its stdin');
    await new Promise<void>((resolve, reject) => {
      stdin.write(data, (e) => (e ? reject(failedPrecondition(`exec: write to stdin: ${describe(e)}`, e)) : resolve()));
    });
  }

  async closeStdin(): Promise<void> {
    this.inputClosed = true;
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded) return;
    await new Promise<void>((resolve) => stdin.end(resolve));
  }

  async resize(): Promise<void> {
    throw failedPrecondition('exec: resize needs a TTY');
  }

  kill(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    if (this.pid <= 0 || this.runcExited) return;
    const st = procStat(this.pid);
    // Still runc's child (alive, or a zombie runc has not reaped): the pid is ours.
    if (st && st.ppid === this.child.pid) signalProcess(this.pid, signal);
  }

  /** The exit code once runc exited, its output was drained and the session dir removed. */
  wait(): Promise<number> {
    return this.done;
  }

  private pipe(stream: Readable, name: OutputStreamName): void {
    stream.on('data', (d: Buffer) => {
      // A reader that destroyed the output gets nothing more; keep draining.
      if (this.output.destroyed) return;
      if (!this.output.pushFrame(name, d)) stream.pause();
    });
    stream.on('error', () => undefined);
    this.output.once('close', () => stream.resume());
  }

  private async finish(): Promise<number> {
    const result = await this.exited;
    this.runcExited = true;
    const { stdout, stderr } = this.child;
    // Only runc held the write ends, so both pipes end now — once the reader
    // has taken what is buffered.
    const ended = (s: Readable) =>
      s.readableEnded || s.destroyed ? Promise.resolve() : new Promise<void>((r) => (s.once('end', r), s.once('close', r)));
    await Promise.all([ended(stdout!), ended(stderr!)]);
    this.child.stdin?.destroy();
    this.output.finish();
    // A failed start is cleaned up by execRunc, which still reads the dir.
    if (await this.outcome) await removeSessionDir(this.opts.sessionDir);
    return typeof result === 'number' ? result : -1;
  }
}
