/**
 * A unix socket that grpc-js can dial, where every accepted connection is
 * carried by its own `ssh HOST … dial-stdio` (grpc-js has no hook to dial
 * through a child process). The socket lives in a fresh 0700 temp dir and is
 * itself 0600: only this user can reach the remote daemon through it.
 *
 * Per connection, both directions half-close like sshd does:
 *   grpc ends its side  → ssh stdin ends → remote dial-stdio sees EOF, half-closes
 *                         toward gantryd, exits when gantryd closes → ssh exits
 *   ssh exits (any why) → its reason is recorded (onSessionEnd), then the
 *                         connection is ended toward grpc, and destroyed 1 s later
 *                         if grpc does not close it
 * Frames that arrive after grpc hung up (a late GOAWAY) are dropped, not thrown.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { GantryError } from '../../errdefs/errdefs';
import { keepTail, killGroup, SSH_FAILED, type Ssh } from './ssh';
import { classifySshFailure } from './sshErrors';

const MAX_STDERR = 16 << 10;

export interface DialProxyOptions {
  readonly ssh: Ssh;
  /** The remote command for a new connection (read per connection: a redeploy may change it). */
  readonly command: () => string;
  /** Called when a session ends: why it failed, or undefined when it ended cleanly. Not called during close(). */
  readonly onSessionEnd: (error: GantryError | undefined) => void;
}

export class DialProxy {
  private readonly sessions = new Set<ChildProcessWithoutNullStreams>();
  private readonly conns = new Set<net.Socket>();
  private closing: Promise<void> | undefined;
  private readonly onExit = () => {
    // The process is going away without close(): at least stop the ssh processes.
    for (const child of this.sessions) killGroup(child, 'SIGTERM');
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  private constructor(
    private readonly opts: DialProxyOptions,
    private readonly server: net.Server,
    readonly dir: string,
    readonly socketPath: string,
  ) {
    process.on('exit', this.onExit);
  }

  static async listen(opts: DialProxyOptions): Promise<DialProxy> {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gantry-ssh-'));
    await fs.promises.chmod(dir, 0o700);
    const socketPath = path.join(dir, 'gantry.sock');
    const server = net.createServer({ allowHalfOpen: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolve());
      });
      await fs.promises.chmod(socketPath, 0o600);
    } catch (e) {
      server.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
      throw new GantryError('Internal', `cannot listen on ${socketPath}: ${(e as Error).message}`, { cause: e });
    }
    const proxy = new DialProxy(opts, server, dir, socketPath);
    server.on('connection', (conn) => proxy.accept(conn));
    return proxy;
  }

  /** How many ssh sessions are running now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** pids of the running ssh processes (for tests that check nothing is left). */
  get sessionPids(): number[] {
    return [...this.sessions].map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  private accept(conn: net.Socket): void {
    if (this.closing) {
      conn.destroy();
      return;
    }
    const { ssh } = this.opts;
    const child = ssh.spawn(this.opts.command());
    this.sessions.add(child);
    this.conns.add(conn);
    let stderr = '';
    let spawnFailure: GantryError | undefined;
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = keepTail(stderr + s, MAX_STDERR);
    });
    conn.pipe(child.stdin);
    child.stdout.pipe(conn, { end: false });
    // A connection that dies without 'end' (reset) must still end ssh's stdin.
    conn.on('close', () => {
      this.conns.delete(conn);
      child.stdin.end();
    });
    conn.on('error', () => undefined); // late writes after grpc hung up; 'close' follows
    child.stdin.on('error', () => conn.destroy());
    child.stdout.on('error', () => conn.destroy());
    child.once('error', (e) => {
      spawnFailure = ssh.spawnError(e);
    });
    child.once('close', (code, signal) => {
      this.sessions.delete(child);
      killGroup(child, 'SIGKILL'); // a ProxyCommand helper it may have left
      if (!this.closing) this.opts.onSessionEnd(spawnFailure ?? this.sessionError(code, signal, stderr));
      conn.end();
      setTimeout(() => conn.destroy(), 1000).unref();
    });
  }

  /** Why a session ended, from ssh's exit and stderr; undefined for a clean end. */
  private sessionError(code: number | null, signal: NodeJS.Signals | null, stderr: string): GantryError | undefined {
    const { ssh } = this.opts;
    if (code === 0) return undefined;
    if (code === SSH_FAILED) return classifySshFailure(stderr, ssh.failureContext());
    if (code === null) return new GantryError('Unavailable', `ssh to ${ssh.label} was killed (${signal})`, { transport: true });
    // dial-stdio's own line ("gantry: cannot connect to gantryd at S (connection refused); is it running? Start it with…"),
    // without the local-daemon advice, which does not apply from here.
    const said = (stderr.trim().split('\n').pop() ?? '').replace(/^gantry: /, '').replace(/; is it running\?.*$/, '');
    return new GantryError('Unavailable', `gantryd on ${ssh.label} is not reachable: ${said || `dial-stdio exited ${code}`}`, {
      transport: true,
    });
  }

  /**
   * Stops accepting, ends every session's stdin (the clean way: the remote
   * dial-stdio exits on EOF), then SIGTERM and SIGKILL for what is left, and
   * removes the socket dir. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    // server.close() waits for open connections: destroy them first, then wait.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.conns) conn.destroy();
    await closed;
    for (const child of this.sessions) child.stdin.end();
    if (!(await this.waitSessions(2_000))) {
      for (const child of this.sessions) killGroup(child, 'SIGTERM');
      if (!(await this.waitSessions(2_000))) {
        for (const child of this.sessions) killGroup(child, 'SIGKILL');
        await this.waitSessions(2_000);
      }
    }
    process.off('exit', this.onExit);
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }

  private async waitSessions(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.sessions.size === 0;
  }
}
