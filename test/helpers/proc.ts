// Child processes for tests: long-running servers (startProcess) and one-shot
// tools (runCommand). Always argv, never a shell string.
//
// Servers run in their own process group (detached: true), so stop() and
// kill() reach everything they forked, and a test never kills processes it did
// not start.
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { waitFor as waitUntil, within } from './waitFor';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcOptions {
  cwd?: string;
  /** Full environment; defaults to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Name used in error messages; defaults to the command. */
  name?: string;
  /** Keep at most this many characters of stdout and of stderr (the newest). */
  maxOutput?: number;
  /** Pipe stdin instead of ignoring it (then write to `child.stdin`). */
  stdin?: boolean;
  /** Run as this user and group (a test's unprivileged user; we run as root). */
  uid?: number;
  gid?: number;
}

export interface WaitOptions {
  timeout?: number;
  /** What is awaited, for the error message ("registry answers GET /v2/"). */
  what?: string;
  /** Polling interval in ms; output from the process also re-checks. */
  interval?: number;
}

const DEFAULT_MAX_OUTPUT = 1 << 20;

/** Bounded tail of a stream: long-running servers can log a lot. */
class Tail {
  private text = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max) this.text = this.text.slice(this.text.length - this.max);
  }
  toString(): string {
    return this.text;
  }
}

// Safety net: if the test process dies with servers still running, kill their
// groups on the way out so no docker-registry or sshd outlives the run.
const live = new Set<Proc>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export class Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  private readonly out: Tail;
  private readonly err: Tail;
  private status: ExitStatus | undefined;
  private readonly exitPromise: Promise<ExitStatus>;
  private readonly listeners = new Set<() => void>();

  constructor(cmd: string, args: readonly string[], opts: ProcOptions = {}) {
    this.name = opts.name ?? cmd;
    const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
    this.out = new Tail(max);
    this.err = new Tail(max);
    this.child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    });
    this.exitPromise = new Promise((resolve) => {
      // 'exit', not 'close': grandchildren may hold the pipes open after the
      // process itself is gone.
      this.child.once('exit', (code, signal) => {
        this.status = { code, signal };
        live.delete(this);
        this.notify();
        resolve(this.status);
      });
      this.child.once('error', (e) => {
        this.err.push(`spawn failed: ${e.message}\n`);
        this.status = { code: null, signal: null };
        live.delete(this);
        this.notify();
        resolve(this.status);
      });
    });
    this.pid = this.child.pid ?? -1;
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.out.push(s);
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.err.push(s);
      this.notify();
    });
    if (this.pid > 0) live.add(this);
  }

  get stdout(): string {
    return this.out.toString();
  }

  get stderr(): string {
    return this.err.toString();
  }

  /** Exit status, or undefined while running. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Sends `signal` to the whole process group; a no-op once it is gone. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }

  waitForExit(): Promise<ExitStatus> {
    return this.exitPromise;
  }

  /**
   * SIGTERM to the group, SIGKILL after `graceMs`, and wait for the exit.
   * Whatever else is left in the group is SIGKILLed too.
   */
  async stop(graceMs = 5000): Promise<ExitStatus> {
    if (this.status) return this.status;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
    // Right after the leader's exit, so the group id cannot have been reused.
    this.kill('SIGKILL');
    return this.status!;
  }

  /**
   * Resolves with the predicate's first truthy result. Fails early if the
   * process exits, and on timeout; both errors carry the captured stderr.
   */
  async waitFor<T>(predicate: (p: Proc) => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
    const timeout = opts.timeout ?? 30_000;
    const what = opts.what ?? 'condition';
    let exited = false;
    let threw: unknown;
    try {
      return await waitUntil(
        async () => {
          let value: T;
          try {
            value = await predicate(this);
          } catch (e) {
            threw = e;
            throw e;
          }
          if (value) return value;
          if (this.status) {
            exited = true;
            throw new Error('exited');
          }
          return undefined;
        },
        {
          what,
          timeoutMs: timeout,
          intervalMs: opts.interval ?? 50,
          // Output from the process re-checks at once.
          wake: (recheck) => {
            this.listeners.add(recheck);
            return () => this.listeners.delete(recheck);
          },
        },
      );
    } catch {
      if (threw !== undefined) throw this.failure(`${what}: predicate threw: ${(threw as Error).message ?? threw}`);
      if (exited) throw this.failure(`exited (${fmtStatus(this.status!)}) before ${what}`);
      throw this.failure(`timed out after ${timeout} ms waiting for ${what}`);
    }
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private failure(msg: string): Error {
    const tail = (s: string) => (s.length > 4000 ? '…' + s.slice(-4000) : s);
    return new Error(
      `${this.name} (pid ${this.pid}) ${msg}\n--- stderr ---\n${tail(this.stderr)}` +
        (this.stdout ? `\n--- stdout ---\n${tail(this.stdout)}` : ''),
    );
  }
}

function fmtStatus(s: ExitStatus): string {
  return s.signal ? `signal ${s.signal}` : `code ${s.code}`;
}

export function startProcess(cmd: string, args: readonly string[], opts: ProcOptions = {}): Proc {
  return new Proc(cmd, args, opts);
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  /** Kill the command's group after this many ms (default 120 s). */
  timeout?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a one-shot tool (openssl, umoci, skopeo, ip …) and resolves with its
 * output; rejects with the argv, status and stderr if it does not exit 0.
 */
export async function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const p = new Proc(cmd, args, { cwd: opts.cwd, env: opts.env, stdin: opts.input !== undefined });
  if (opts.input !== undefined) p.child.stdin!.end(opts.input);
  const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 120_000);
  const status = await p.waitForExit();
  clearTimeout(timer);
  // The pipes may still deliver their last bytes after 'exit' (bounded wait:
  // a daemon the tool forked could hold them open forever).
  await within(Promise.all([streamEnd(p.child.stdout), streamEnd(p.child.stderr)]), { what: 'the pipes to end', timeoutMs: 2000 }).catch(
    () => undefined,
  );
  if (status.code !== 0) {
    throw new Error(`command failed (${fmtStatus(status)}): ${[cmd, ...args].map(quote).join(' ')}\n${p.stderr.trim()}`);
  }
  return { stdout: p.stdout, stderr: p.stderr };
}

function streamEnd(s: NodeJS.ReadableStream | null): Promise<void> {
  if (!s || (s as unknown as { readableEnded: boolean }).readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    s.once('end', resolve);
    s.once('close', resolve);
  });
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * True while `pid` runs. A zombie counts as gone: it has exited, and orphans
 * wait for this machine's init to reap them (which can take a second or two).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..."; comm may contain spaces or parens.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * SIGTERM to a process that is not our child (a daemon Start Runtime
 * started), SIGKILL if it is still there after `graceMs`; resolves when it
 * is gone or the SIGKILL is sent. A process already gone is no error.
 */
export async function stopPid(pid: number, graceMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  await waitUntil(() => !pidAlive(pid), { what: `pid ${pid} gone`, timeoutMs: graceMs, intervalMs: 100 }).catch(() => undefined);
  if (pidAlive(pid)) signal('SIGKILL');
}

/**
 * Resolves once `pid` is gone; rejects after `timeout` ms. For checking that
 * nothing outlived a stop().
 */
export async function waitForPidGone(pid: number, what = `pid ${pid}`, timeout = 10_000): Promise<void> {
  await waitUntil(() => !pidAlive(pid), { what: `${what} to exit`, timeoutMs: timeout }).catch(() => {
    throw new Error(`${what} is still running`);
  });
}
