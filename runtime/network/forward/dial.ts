/**
 * TCP connections to 127.0.0.1:PORT inside a network namespace, for
 * port-forward (docs/networking.md, "Port forwarding"). Node cannot setns,
 * so a namespace other than the host's is served by a relay process,
 * `nsenter --net=<ns> -- node gantry.js __port-relay SOCKET IDLE_MS`
 * (relay.ts), started on the first connection and kept while connections
 * come (one per namespace, found by the namespace's inode, so a restarted
 * container's new namespace gets a new relay); each connection is a unix
 * socket connection to it. The host's namespace is dialled directly. Argv
 * only, never a shell.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Ctx } from '../../context';
import { failedPrecondition, internal, unavailable } from '../../errdefs/errdefs';

/** Where to connect: a namespace file (`<state>/netns/<id>`, `/proc/<pid>/ns/net`), or the host's own namespace. */
export type NamespaceTarget = { readonly netns: string } | { readonly host: true };

export interface RelayPoolOptions {
  /** The relay command before its arguments: [node, gantry.js, '__port-relay']. */
  readonly relay: readonly string[];
  /** Where the relays' sockets go (created on demand). */
  readonly socketDir: string;
  /** A relay with no connection for this long exits. */
  readonly idleMs: number;
  readonly nsenter?: string;
}

/** An open connection: a socket to the far end (through a relay or not); `closed` settles when it is over. */
export interface ForwardConnection {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  /** Ends it now. Idempotent. */
  close(): void;
}

interface Relay {
  readonly child: ChildProcess;
  readonly socketPath: string;
  readonly ready: Promise<void>;
  exited: boolean;
}

/** Keeps a relay's stderr bounded: it only ever writes a line or two. */
const STDERR_LIMIT = 4096;

export class RelayPool {
  private readonly relays = new Map<string, Relay>();
  private seq = 0;

  constructor(private readonly opts: RelayPoolOptions) {}

  /** Connects to `port`; `describe` names it in errors (`port 80 in container web`). Unavailable when refused. */
  async dial(ctx: Ctx, target: NamespaceTarget, port: number, describe: string): Promise<ForwardConnection> {
    if ('host' in target) return connectTcp(ctx, port, describe);
    // A relay that exits for idleness just as we connect: the second try starts a new one.
    for (let attempt = 0; ; attempt++) {
      const relay = await this.relayFor(ctx, target.netns, describe);
      try {
        return await this.viaRelay(ctx, relay, port, describe);
      } catch (e) {
        if (!(e instanceof RelayGone) || attempt > 0)
          throw e instanceof RelayGone ? internal(`port-forward relay for ${describe} went away`) : e;
      }
    }
  }

  /** Ends every relay (gantryd shutting down; they would also end on their own when gantryd's pipe closes). */
  close(): void {
    for (const relay of this.relays.values()) relay.child.kill('SIGKILL');
    this.relays.clear();
  }

  /** Relays alive now (tests and the leftovers check). */
  pids(): number[] {
    return [...this.relays.values()].filter((r) => !r.exited && r.child.pid).map((r) => r.child.pid!);
  }

  private async relayFor(ctx: Ctx, netns: string, describe: string): Promise<Relay> {
    let key: string;
    try {
      const st = await fs.promises.stat(netns);
      key = `${st.dev}:${st.ino}`;
    } catch (e) {
      throw failedPrecondition(`cannot reach ${describe}: its network namespace ${netns} is gone (${(e as Error).message})`);
    }
    const existing = this.relays.get(key);
    if (existing && !existing.exited) {
      await existing.ready;
      return existing;
    }
    const relay = this.start(netns, key, describe);
    this.relays.set(key, relay);
    const abort = () => relay.child.kill('SIGKILL');
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      await relay.ready;
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
    return relay;
  }

  private start(netns: string, key: string, describe: string): Relay {
    fs.mkdirSync(this.opts.socketDir, { recursive: true, mode: 0o700 });
    const socketPath = path.join(this.opts.socketDir, `${process.pid}-${++this.seq}.sock`);
    // stdin stays a pipe from us: when gantryd dies, it ends, and so does the relay.
    const args = [`--net=${netns}`, '--', ...this.opts.relay, socketPath, String(this.opts.idleMs)];
    const child = spawn(this.opts.nsenter ?? 'nsenter', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const relay: Relay = {
      child,
      socketPath,
      exited: false,
      ready: new Promise<void>((resolve, reject) => {
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (text: string) => {
          if (stderr.length < STDERR_LIMIT) stderr += text;
          if (stderr.startsWith('listening\n')) resolve();
        });
        child.once('error', (e) => reject(internal(`cannot run nsenter for ${describe}: ${e.message}`)));
        child.once('exit', (code, signal) =>
          reject(failedPrecondition(`cannot reach ${describe}: ${stderr.trim() || `relay ended (${signal ?? `exit code ${code}`})`}`)),
        );
      }),
    };
    relay.ready.catch(() => undefined);
    child.stdin.on('error', () => undefined);
    child.once('exit', () => {
      relay.exited = true;
      if (this.relays.get(key) === relay) this.relays.delete(key);
      fs.rmSync(socketPath, { force: true });
    });
    return relay;
  }

  private async viaRelay(ctx: Ctx, relay: Relay, port: number, describe: string): Promise<ForwardConnection> {
    const socket = net.connect({ path: relay.socketPath, allowHalfOpen: true });
    const abort = () => socket.destroy();
    ctx.signal.addEventListener('abort', abort, { once: true });
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        let line = '';
        const onData = (chunk: Buffer) => {
          line += chunk.toString('latin1');
          const nl = line.indexOf('\n');
          if (nl < 0) return;
          socket.off('data', onData);
          socket.pause();
          const rest = chunk.subarray(chunk.length - (line.length - nl - 1));
          if (rest.length) socket.unshift(rest);
          resolve(line.slice(0, nl));
        };
        socket.on('data', onData);
        socket.once('connect', () => socket.write(`${port}\n`));
        socket.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
              ? new RelayGone()
              : unavailable(`connecting to ${describe} failed: ${e.message}`),
          ),
        );
        socket.once('close', () => reject(new RelayGone()));
      });
      if (reply !== 'connected') {
        socket.destroy();
        const [, code = '', ...rest] = reply.split(' ');
        throw refusedOrFailed(describe, code, rest.join(' '));
      }
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
    return established(socket);
  }
}

class RelayGone extends Error {}

function refusedOrFailed(describe: string, code: string, message: string): Error {
  if (code === 'ECONNREFUSED') return unavailable(`connection refused: nothing listens on ${describe}`);
  return unavailable(`connecting to ${describe} failed: ${message || code}`);
}

async function connectTcp(ctx: Ctx, port: number, describe: string): Promise<ForwardConnection> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.setNoDelay(true);
  const abort = () => socket.destroy();
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (e: NodeJS.ErrnoException) => reject(refusedOrFailed(describe, e.code ?? '', e.message)));
    });
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', abort);
  }
  return established(socket);
}

function established(socket: net.Socket): ForwardConnection {
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, closed, close: () => socket.destroy() };
}
