/**
 * One TCP connection to 127.0.0.1:PORT inside a network namespace, for
 * port-forward (docs/networking.md, "Port forwarding"). Node cannot setns, so
 * a namespace other than the host's is entered by a relay process,
 * `nsenter --net=<ns> -- node gantry.js __port-relay PORT` (relay.ts), whose
 * stdin and stdout are the connection; the host's namespace is dialled
 * directly. Argv only, never a shell.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Ctx } from '../../context';
import { failedPrecondition, internal, unavailable } from '../../errdefs/errdefs';

/** Where to connect: a namespace file (`<state>/netns/<id>`, `/proc/<pid>/ns/net`), or the host's own namespace. */
export type NamespaceTarget = { readonly netns: string } | { readonly host: true };

export interface DialOptions {
  readonly target: NamespaceTarget;
  readonly port: number;
  /** The relay command before its port argument: [node, gantry.js, '__port-relay']. */
  readonly relay: readonly string[];
  /** What the errors call the far end, e.g. `port 80 in container web`. */
  readonly describe: string;
  readonly nsenter?: string;
}

/** An open connection: write to `input`, read `output`; `closed` settles when it is over (rejecting on a failure after the connect). */
export interface ForwardConnection {
  readonly input: Writable;
  readonly output: Readable;
  readonly closed: Promise<void>;
  /** Ends it now (the relay is killed). Idempotent. */
  close(): void;
  /** The relay's pid, undefined for a direct connection. */
  readonly pid?: number;
}

/** Keeps the relay's stderr bounded: it only ever writes a line or two. */
const STDERR_LIMIT = 4096;

export async function dialPort(ctx: Ctx, opts: DialOptions): Promise<ForwardConnection> {
  if ('host' in opts.target) return dialDirect(ctx, opts);
  return dialRelay(ctx, opts, opts.target.netns);
}

function refusedOrFailed(opts: DialOptions, code: string, message: string): Error {
  if (code === 'ECONNREFUSED') return unavailable(`connection refused: nothing listens on ${opts.describe}`);
  return unavailable(`connecting to ${opts.describe} failed: ${message}`);
}

async function dialDirect(ctx: Ctx, opts: DialOptions): Promise<ForwardConnection> {
  const socket = net.connect({ host: '127.0.0.1', port: opts.port, allowHalfOpen: true });
  socket.setNoDelay(true);
  const abort = () => socket.destroy();
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e: NodeJS.ErrnoException) => reject(refusedOrFailed(opts, e.code ?? '', e.message)));
      if (ctx.signal.aborted) socket.destroy(new Error('cancelled'));
    });
  } finally {
    ctx.signal.removeEventListener('abort', abort);
  }
  const closed = new Promise<void>((resolve, reject) => {
    let error: NodeJS.ErrnoException | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
    socket.once('close', () => (error ? reject(refusedOrFailed(opts, error.code ?? '', error.message)) : resolve()));
  });
  closed.catch(() => undefined);
  return { input: socket, output: socket, closed, close: () => socket.destroy() };
}

async function dialRelay(ctx: Ctx, opts: DialOptions, netns: string): Promise<ForwardConnection> {
  const [command, ...args] = [opts.nsenter ?? 'nsenter', `--net=${netns}`, '--', ...opts.relay, String(opts.port)];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve((exited = { code, signal })));
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.stderr.setEncoding('utf8');
  const firstLine = new Promise<string | undefined>((resolve) => {
    child.stderr.on('data', (text: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += text;
      const nl = stderr.indexOf('\n');
      if (nl >= 0) resolve(stderr.slice(0, nl));
    });
    child.stderr.once('end', () => resolve(undefined));
  });
  const kill = () => {
    if (!exited) child.kill('SIGKILL');
  };
  ctx.signal.addEventListener('abort', kill, { once: true });
  // A write after the relay is gone (EPIPE) is reported by `closed`, not here.
  child.stdin.on('error', () => undefined);
  child.stdout.on('error', () => undefined);
  const failure = (fallback: string): Error => {
    const line = stderr.split('\n').find((l) => l.startsWith('error '));
    if (line) {
      const [, code = '', ...rest] = line.split(' ');
      return refusedOrFailed(opts, code, rest.join(' '));
    }
    const said = stderr.trim();
    // nsenter's own failures (the namespace is gone, no permission) are not the relay's line.
    return failedPrecondition(`connecting to ${opts.describe} failed: ${said || fallback}`);
  };
  try {
    const first = await Promise.race([firstLine, spawnError.then((e) => Promise.reject(internal(`cannot run nsenter: ${e.message}`)))]);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (first !== 'connected') {
      const { code, signal } = await exit;
      throw failure(`relay ended (${signal ?? `exit code ${code}`})`);
    }
  } catch (e) {
    kill();
    ctx.signal.removeEventListener('abort', kill);
    throw e;
  }
  let closedByUs = false;
  const closed = (async () => {
    const { code, signal } = await exit;
    ctx.signal.removeEventListener('abort', kill);
    if (code !== 0 && !closedByUs) throw failure(`relay ended (${signal ?? `exit code ${code}`})`);
  })();
  closed.catch(() => undefined);
  return {
    input: child.stdin,
    output: child.stdout,
    closed,
    close: () => {
      closedByUs = true;
      kill();
    },
    pid: child.pid,
  };
}
