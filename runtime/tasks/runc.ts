/**
 * The runc CLI, one process per call, for everything after `runc create`
 * (which conmon runs, see conmon.ts): state, list, start, kill, pause,
 * resume, delete, ps.
 *
 * Every call passes `--root <root>` (the same root conmon gives runc) and
 * `--log-format json`, so runc's error reaches us as
 * `{"level":"error","msg":"…"}` rather than logrus text.
 *
 * Errors. runc exits 1 for every failure and says why only in prose, so the
 * kind is not read from the text. After a failure the task's state is read
 * again and the kind follows from the state table in tasks.ts:
 *   - runc does not list the task             → NotFound
 *   - the task's state does not allow the op  → FailedPrecondition
 *   - anything else                           → Internal
 * The message is always runc's own (`runc pause c1: container not running`).
 * A binary that does not exist is FailedPrecondition; a call that outlives
 * `timeoutMs` is DeadlineExceeded; an aborted ctx is Cancelled (runc is
 * SIGKILLed either way).
 *
 * Cancellation: every method takes an optional trailing `ctx` (the id comes
 * first, as in the runc CLI); without one only the timeout bounds the call.
 *
 * Cost: a runc process per call (~10 ms); a failure costs one or two more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { background, type Ctx } from '../context';
import { GantryError, failedPrecondition, internal, invalidArgument, isGantryError, type ErrorKind } from '../errdefs/errdefs';
import type { RuncState, TaskStatus } from './tasks';

export interface RuncOptions {
  /** Absolute path of the runc binary. */
  readonly binary: string;
  /** runc's state dir (`--root`); need not exist yet. */
  readonly root: string;
  /** Per call; default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Tasks have no cgroup of their own (a rootless daemon, docs/rootless.md):
   * `kill --all` cannot find their processes, so it signals the init, whose
   * SIGKILL ends its PID namespace and everything in it.
   */
  readonly noCgroups?: boolean;
}

type Op = 'start' | 'pause' | 'resume' | 'kill' | 'delete' | 'ps' | 'state' | 'update';

/** States in which runc accepts each operation (see the table in tasks.ts). */
const ALLOWED: Record<Op, readonly TaskStatus[]> = {
  start: ['created'],
  pause: ['created', 'running'],
  resume: ['paused'],
  kill: ['created', 'running', 'paused'],
  delete: ['created', 'stopped'],
  ps: ['created', 'running', 'paused', 'stopped'],
  update: ['created', 'running', 'paused'],
  state: ['created', 'running', 'paused', 'stopped'],
};

const STATUSES: readonly string[] = ['created', 'running', 'paused', 'stopped'];

/** runc's only environment: nothing of gantryd's leaks into the tools it runs. */
export const RUNTIME_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

/** A runc that ran and exited non-zero; turned into a GantryError by `failure`. */
class RuncExit extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

export class Runc {
  readonly binary: string;
  readonly root: string;
  private readonly timeoutMs: number;
  private readonly noCgroups: boolean;

  constructor(opts: RuncOptions) {
    if (!opts.binary.startsWith('/')) throw invalidArgument(`runc binary must be an absolute path, got "${opts.binary}"`);
    if (!opts.root.startsWith('/')) throw invalidArgument(`runc root must be an absolute path, got "${opts.root}"`);
    this.binary = opts.binary;
    this.root = opts.root;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.noCgroups = opts.noCgroups ?? false;
  }

  /**
   * Whether runc has state for `id` (`<root>/<id>/state.json`), read without
   * running runc: state() and delete() of an unknown task then cost no exec,
   * which matters on the run → exit → remove path.
   */
  knows(id: string): boolean {
    return fs.existsSync(path.join(this.root, id, 'state.json'));
  }

  /** The task's state, or undefined when runc does not know it. */
  async state(id: string, ctx: Ctx = background()): Promise<RuncState | undefined> {
    if (!this.knows(id)) return undefined;
    try {
      return parseState(JSON.parse(await this.run(ctx, ['state', id])));
    } catch (e) {
      const err = await this.failure(ctx, 'state', id, e);
      if (err.kind === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Every task under this root (an empty list when the root does not exist). */
  async list(ctx: Ctx = background()): Promise<RuncState[]> {
    let out: string;
    try {
      out = await this.run(ctx, ['list', '--format', 'json']);
    } catch (e) {
      throw e instanceof RuncExit ? internal(`runc list: ${e.detail}`, e) : e;
    }
    const parsed: unknown = JSON.parse(out);
    return Array.isArray(parsed) ? parsed.map(parseState) : []; // runc prints `null` for none
  }

  /** Runs the user process of a `created` task. */
  start(id: string, ctx: Ctx = background()): Promise<void> {
    return this.op(ctx, 'start', id, ['start', id]);
  }

  /**
   * Sends `signal` (`SIGTERM`, `TERM`, `15` …) to the init process, or with
   * `all` to every process in the task's cgroup (also fine once stopped).
   * A paused task receives it only when resumed, except SIGKILL.
   */
  async kill(id: string, signal: string, opts: { all?: boolean } = {}, ctx: Ctx = background()): Promise<void> {
    const sig = normaliseSignal(signal);
    if (opts.all && this.noCgroups) {
      try {
        return await this.run(ctx, ['kill', id, sig]).then(() => undefined);
      } catch (e) {
        // A stopped task has nothing left to signal (as with --all).
        if ((await this.list(ctx).catch(() => [])).find((s) => s.id === id)?.status === 'stopped') return;
        throw await this.failure(ctx, 'kill', id, e);
      }
    }
    if (opts.all) return this.op(ctx, 'kill', id, ['kill', '--all', id, sig], ['created', 'running', 'paused', 'stopped']);
    return this.op(ctx, 'kill', id, ['kill', id, sig]);
  }

  /** Freezes every process of the task (cgroup freezer). */
  pause(id: string, ctx: Ctx = background()): Promise<void> {
    return this.op(ctx, 'pause', id, ['pause', id]);
  }

  resume(id: string, ctx: Ctx = background()): Promise<void> {
    return this.op(ctx, 'resume', id, ['resume', id]);
  }

  /**
   * Removes runc's state (and cgroups) of a created or stopped task; `force`
   * SIGKILLs a live one first. Idempotent: a task runc does not know is fine.
   */
  async delete(id: string, opts: { force?: boolean } = {}, ctx: Ctx = background()): Promise<void> {
    if (!this.knows(id)) return;
    try {
      await this.op(ctx, 'delete', id, opts.force ? ['delete', '--force', id] : ['delete', id]);
    } catch (e) {
      if (isGantryError(e) && e.kind === 'NotFound') return;
      throw e;
    }
  }

  /**
   * Changes the cgroup limits of a live task (`runc update --resources -`):
   * `resources` is an OCI `linux.resources` object, given on stdin.
   */
  async update(id: string, resources: Readonly<Record<string, unknown>>, ctx: Ctx = background()): Promise<void> {
    try {
      await this.run(ctx, ['update', '--resources', '-', id], JSON.stringify(resources));
    } catch (e) {
      throw await this.failure(ctx, 'update', id, e);
    }
  }

  /** PIDs (host namespace) of every process in the task's cgroup; [] once stopped. */
  async ps(id: string, ctx: Ctx = background()): Promise<number[]> {
    let out: string;
    try {
      out = await this.run(ctx, ['ps', '--format', 'json', id]);
    } catch (e) {
      throw await this.failure(ctx, 'ps', id, e);
    }
    const parsed: unknown = JSON.parse(out);
    if (parsed === null) return [];
    if (!Array.isArray(parsed) || !parsed.every((p) => Number.isInteger(p))) {
      throw internal(`runc ps ${id}: unexpected output ${out.trim().slice(0, 200)}`);
    }
    return parsed as number[];
  }

  private async op(ctx: Ctx, op: Op, id: string, args: string[], allowed = ALLOWED[op]): Promise<void> {
    try {
      await this.run(ctx, args);
    } catch (e) {
      throw await this.failure(ctx, op, id, e, allowed);
    }
  }

  /**
   * Classifies a failed call by the task's state now (see the file comment);
   * errors that are already GantryErrors (timeout, abort, missing binary) pass through.
   */
  private async failure(ctx: Ctx, op: Op, id: string, e: unknown, allowed = ALLOWED[op]): Promise<GantryError> {
    if (!(e instanceof RuncExit)) return isGantryError(e) ? e : internal(`runc ${op} ${id}: ${String(e)}`, e);
    const message = `runc ${op} ${id}: ${e.detail}`;
    let current: RuncState | undefined;
    try {
      current = (await this.list(ctx)).find((s) => s.id === id);
    } catch (listErr) {
      return internal(message, listErr);
    }
    let kind: ErrorKind = 'Internal';
    if (!current) kind = 'NotFound';
    else if (!allowed.includes(current.status)) kind = 'FailedPrecondition';
    const suffix = current && kind === 'FailedPrecondition' ? ` (task is ${current.status})` : '';
    return new GantryError(kind, message + suffix, { cause: e });
  }

  /** Runs runc with argv; resolves with stdout, rejects with RuncExit (non-zero) or a GantryError. */
  private run(ctx: Ctx, args: string[], input?: string): Promise<string> {
    const argv = ['--root', this.root, '--log-format', 'json', ...args];
    return new Promise((resolve, reject) => {
      if (ctx.signal.aborted) return reject(new GantryError('Cancelled', `runc ${args[0]}: cancelled`));
      // stdin is `input` (runc update --resources -), else none: the hot path (start, delete, state) makes no pipe.
      const child = spawn(this.binary, argv, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: RUNTIME_ENV });
      if (child.stdin) {
        child.stdin.on('error', () => undefined); // a runc that exits before reading: its status says why
        child.stdin.end(input);
      }
      const stdout: Buffer[] = [];
      let stderr = '';
      let settled: GantryError | undefined;
      const stop = (err: GantryError) => {
        settled ??= err;
        child.kill('SIGKILL');
      };
      const onAbort = () => stop(new GantryError('Cancelled', `runc ${args[0]}: cancelled`));
      ctx.signal.addEventListener('abort', onAbort);
      const timer = setTimeout(
        () => stop(new GantryError('DeadlineExceeded', `runc ${args[0]}: no answer after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      child.stdout!.on('data', (b: Buffer) => stdout.push(b));
      child.stderr!.setEncoding('utf8').on('data', (s: string) => {
        if (stderr.length < 65536) stderr += s;
      });
      child.once('error', (e: NodeJS.ErrnoException) => {
        settled ??=
          e.code === 'ENOENT' ? failedPrecondition(`runc not found at ${this.binary}`, e) : internal(`runc ${args[0]}: ${e.message}`, e);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        if (settled) return reject(settled);
        if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
        reject(new RuncExit(runtimeMessage(stderr) || `exited with ${signal ?? `status ${code}`}`));
      });
    });
  }
}

/**
 * The human part of what runc (or conmon quoting runc) wrote to stderr:
 * the `msg` of each error-level line, whether runc logged JSON
 * (`{"level":"error","msg":"…"}`) or logrus text (`time=… level=error
 * msg="…"`); text that is neither is returned trimmed.
 */
export function runtimeMessage(stderr: string): string {
  const messages: string[] = [];
  const other: string[] = [];
  for (const line of stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const msg = jsonLogMessage(line) ?? textLogMessage(line);
    if (msg === undefined) other.push(line);
    else if (msg.level === 'error' || msg.level === 'fatal' || msg.level === 'panic') messages.push(msg.msg);
  }
  return (messages.length > 0 ? messages : other).join('; ').trim();
}

function jsonLogMessage(line: string): { level: string; msg: string } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(line) as { level?: unknown; msg?: unknown };
    if (typeof o.msg === 'string') return { level: jsonText(o.level, 'error'), msg: o.msg };
  } catch {
    // not JSON after all
  }
  return undefined;
}

function textLogMessage(line: string): { level: string; msg: string } | undefined {
  const m = /(?:^|\s)msg=(?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(line);
  if (!m) return undefined;
  const level = /(?:^|\s)level=(\w+)/.exec(line)?.[1] ?? 'error';
  if (m[2] !== undefined) return { level, msg: m[2] };
  try {
    return { level, msg: JSON.parse(`"${m[1]}"`) as string };
  } catch {
    return { level, msg: m[1].replace(/\\(.)/g, '$1') }; // a Go escape JSON lacks (\x..): good enough for people
  }
}

/** `TERM`, `SIGTERM`, `sigterm`, `15` → what runc accepts; anything else is InvalidArgument. */
function normaliseSignal(signal: string): string {
  if (/^\d+$/.test(signal)) {
    const n = Number(signal);
    if (n >= 1 && n <= 64) return String(n);
  } else {
    const name = signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`;
    if (name in os.constants.signals) return name;
  }
  throw invalidArgument(`invalid signal "${signal}"`);
}

/** A JSON value from runc as text: strings as they are, anything else as JSON (never "[object Object]"). */
function jsonText(v: unknown, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function parseState(raw: unknown): RuncState {
  const o = raw as Record<string, unknown> | null;
  if (!o || typeof o.id !== 'string' || typeof o.status !== 'string' || !STATUSES.includes(o.status)) {
    throw internal(`runc: unexpected state ${JSON.stringify(raw).slice(0, 200)}`);
  }
  return {
    id: o.id,
    pid: typeof o.pid === 'number' ? o.pid : 0,
    status: o.status as TaskStatus,
    bundle: jsonText(o.bundle, ''),
    rootfs: jsonText(o.rootfs, ''),
    created: jsonText(o.created, ''),
    ...(o.annotations && typeof o.annotations === 'object' ? { annotations: o.annotations as Record<string, string> } : {}),
  };
}
