/**
 * Exec with a TTY, through a conmon of its own, as podman runs every exec.
 * conmon asks runc for the pty master (`--console-socket`), sizes it from
 * process.consoleSize, serves it on an attach socket and takes resizes on
 * `ctl`. Verified with conmon 2.1.6 / runc 1.1.5 (attach.test / exec.test).
 *
 *   gantryd                                          conmon (-e --exec-attach -t --full-attach)
 *     | spawn, fds 3 sync / 4 start / 5 attach pipe -> |
 *     | start byte #1 ------------------------------> | forks; the parent exits 0 at once
 *     | <------------------------- fd5 {"data": 0}\n   | <dir>/attach is listening
 *     | connect(<dir>/attach)  (attach.ts) ---------> |
 *     | start byte #2 ------------------------------> | runc exec --detach --tty …
 *     | <------------------------- fd3 {"data": PID}\n | or {"data": -1, "message": runc's error}
 *     | <==== attach packets [0x02|bytes], input ===> |
 *     | "1 <rows> <cols>\n" -> <dir>/ctl (one write)   | TIOCSWINSZ
 *     | <------------------------------- attach EOF   | the process exited
 *     | <------------------------- fd3 {"data": N}\n   | exit code (128+n for a signal); also <dir>/exits/<cid>
 *     |                                               | conmon exits; gantryd removes <dir>
 *
 * Everything lives in the session dir: process.json, pidfile, conmon.pid,
 * attach, ctl, winsz, exits/. Each exec needs its own dir: conmon names the
 * exit file after the *container* ID.
 *
 * Closing stdin on a TTY changes nothing the process can see (verified:
 * `cat` keeps reading after SHUT_WR, with or without -i).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Ctx } from '../../context';
import { describe, failedPrecondition, invalidArgument, unavailable, errorOf } from '../../errdefs/errdefs';
import { attachSocket, type AttachSession } from '../attach';
import type { FrameStream, OutputFrame } from '../frames';
import { execStartError, removeSessionDir, runcErrorMessage, signalProcess, type ExecOptions, type ExecSession } from './session';
import { processAlive } from '../proc';

const unknown = errorOf('Unknown');

/** Starts the exec; `processFile` (terminal: true) is already in the session dir. */
export async function execConmon(ctx: Ctx, opts: ExecOptions, processFile: string): Promise<ExecSession> {
  const dir = opts.sessionDir;
  const runc = await resolveExecutable(opts.runcPath);
  await fs.promises.mkdir(path.join(dir, 'exits'));
  const args = [
    '--api-version',
    '1',
    '-c',
    opts.containerId,
    '-u',
    path.basename(dir),
    '-r',
    runc,
    '-b',
    dir,
    '-p',
    path.join(dir, 'pidfile'),
    '-P',
    path.join(dir, 'conmon.pid'),
    '-l',
    'none:',
    '--exit-dir',
    path.join(dir, 'exits'),
    '--full-attach',
    '--runtime-arg',
    `--root=${opts.runcRoot}`,
    '--runtime-arg',
    '--log-format=json',
    '-e',
    '--exec-attach',
    '-t',
    ...(opts.stdin ? ['-i'] : []),
    '--exec-process-spec',
    processFile,
  ];
  const child = spawn(opts.conmonPath, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' },
    detached: true,
    cwd: dir,
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const parentFailed = new Promise<Error>((resolve) => {
    child.once('error', (e) => resolve(failedPrecondition(`exec: cannot run ${opts.conmonPath}: ${describe(e)}`, e)));
    child.once('exit', (code, signal) => {
      if (code !== 0) resolve(failedPrecondition(`exec: conmon exited (${code ?? signal}): ${stderr.trim()}`));
    });
  });
  // The typings know only five stdio entries; the sixth is there all the same.
  const fds = child.stdio as unknown as (Readable | Writable)[];
  const sync = new JsonLines(fds[3] as Readable);
  const attachPipe = new JsonLines(fds[5] as Readable);
  const start = fds[4] as Writable;
  start.on('error', () => undefined);
  const release = () => {
    for (const s of [child.stdout, child.stderr, fds[5]]) s?.destroy();
    child.unref();
  };

  let attach: AttachSession | undefined;
  let pid = 0;
  const onAbort = () => {
    if (pid > 0) signalProcess(pid, 'SIGKILL');
    else killDaemon(dir).catch(() => undefined); // best effort: the abort itself is what the caller sees
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    start.write(Buffer.from([0]));
    const ready = await Promise.race([attachPipe.next(), parentFailed]);
    if (ready instanceof Error) throw ready;
    if (!ready || ready.data < 0) throw conmonFailure('conmon did not open the attach socket', ready, stderr);
    attach = await attachSocket(path.join(dir, 'attach'), { stdin: opts.stdin }, 'exec');
    start.end(Buffer.from([0]));
    // An abort from here on is the session's to handle (it kills the process).
    const started = await sync.next();
    if (!started) throw conmonFailure('conmon exited before the exec started', undefined, stderr);
    if (started.data < 0) throw execStartError(runcErrorMessage(started.message ?? ''));
    pid = started.data;
  } catch (e) {
    attach?.close();
    await killDaemon(dir);
    release();
    sync.destroy();
    await waitDaemonGone(dir);
    await removeSessionDir(dir);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  release();
  return new ConmonExec(ctx, opts, pid, attach, sync);
}

class ConmonExec implements ExecSession {
  readonly tty = true;
  readonly output: FrameStream;
  private exited = false;
  private readonly done: Promise<number>;

  constructor(
    ctx: Ctx,
    private readonly opts: ExecOptions,
    readonly pid: number,
    private readonly attach: AttachSession,
    private readonly sync: JsonLines,
  ) {
    this.output = attach.output;
    const onAbort = () => this.kill('SIGKILL');
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    this.done = this.finish().finally(() => ctx.signal.removeEventListener('abort', onAbort));
    this.done.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<OutputFrame> {
    return this.output[Symbol.asyncIterator]();
  }

  write(data: Buffer | string): Promise<void> {
    return this.attach.write(data);
  }

  closeStdin(): Promise<void> {
    return this.attach.closeStdin();
  }

  async resize(rows: number, cols: number): Promise<void> {
    const ok = (n: number) => Number.isInteger(n) && n > 0 && n <= 0xffff;
    if (!ok(rows) || !ok(cols)) throw invalidArgument(`exec: bad terminal size ${rows}x${cols}`);
    if (this.exited) return;
    let fh: fs.promises.FileHandle;
    try {
      // Non-blocking: opening a fifo nobody reads would hang; ENXIO = conmon is gone.
      fh = await fs.promises.open(path.join(this.opts.sessionDir, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (e) {
      if (this.exited || (e as NodeJS.ErrnoException).code === 'ENXIO') return;
      throw unavailable(`exec: resize: ${describe(e)}`, e);
    }
    try {
      // One message per write(): conmon mishandles two in one read.
      await fh.write(`1 ${rows} ${cols}\n`);
    } finally {
      await fh.close();
    }
  }

  kill(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    // conmon (a subreaper) reaps the process and then reports; until the
    // exit line arrives the pid cannot have been reused.
    if (!this.exited) signalProcess(this.pid, signal);
  }

  wait(): Promise<number> {
    return this.done;
  }

  private async finish(): Promise<number> {
    const line = await this.sync.next();
    this.exited = true;
    this.sync.destroy();
    // conmon closes the attach connection before it reports the exit; the
    // bound only guards against a conmon that died in between.
    await Promise.race([this.attach.ended, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.attach.close();
    await waitDaemonGone(this.opts.sessionDir);
    let code = line && line.data >= 0 ? line.data : undefined;
    if (code === undefined) {
      const text = await fs.promises.readFile(path.join(this.opts.sessionDir, 'exits', this.opts.containerId), 'utf8').catch(() => '');
      if (/^\d+$/.test(text.trim())) code = Number(text.trim());
    }
    await removeSessionDir(this.opts.sessionDir);
    if (code === undefined) throw unknown(`exec: conmon ended without reporting the exit code of pid ${this.pid}`);
    return code;
  }
}

/** Newline-terminated JSON messages (`{"data": N, "message": "…"}`) from a conmon pipe. */
class JsonLines {
  private buf = '';
  private readonly lines: string[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    stream.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  /** The next message, or undefined at EOF. */
  async next(): Promise<{ data: number; message?: string } | undefined> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        try {
          const msg = JSON.parse(line) as { data?: unknown; message?: unknown };
          if (typeof msg.data === 'number') return { data: msg.data, ...(typeof msg.message === 'string' ? { message: msg.message } : {}) };
        } catch {
          // not a message; skip
        }
        continue;
      }
      if (this.ended) return undefined;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  destroy(): void {
    this.stream.destroy();
  }
}

function conmonFailure(what: string, msg: { data: number; message?: string } | undefined, stderr: string): Error {
  const detail = msg?.message ? runcErrorMessage(msg.message) : stderr.trim();
  return unavailable(`exec: ${what}${detail ? `: ${detail}` : ''}`);
}

async function daemonPid(dir: string): Promise<number | undefined> {
  const text = await fs.promises.readFile(path.join(dir, 'conmon.pid'), 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Before start byte #2 no process exists yet, so killing conmon leaves nothing behind. */
async function killDaemon(dir: string): Promise<void> {
  const pid = await daemonPid(dir);
  if (pid !== undefined && processAlive(pid)) signalProcess(pid, 'SIGKILL');
}

/** conmon exits right after the exit line; give it a moment so its dir can go. */
async function waitDaemonGone(dir: string, timeoutMs = 5000): Promise<void> {
  const pid = await daemonPid(dir);
  if (pid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (processAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** conmon's -r must be a path; look bare names up on PATH. */
async function resolveExecutable(name: string): Promise<string> {
  if (name.includes('/')) return path.resolve(name);
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const candidate = path.join(d, name);
    try {
      await fs.promises.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw failedPrecondition(`exec: ${name} not found on PATH`);
}
