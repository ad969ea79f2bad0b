/**
 * One gantryd per socket, and one per data root (two daemons writing the same
 * content store and event log would corrupt each other's view).
 *
 * A lock is a Linux *abstract* unix socket named after what it guards (the
 * socket path, the root path): binding it is atomic, it cannot go stale (the
 * kernel frees it when the process dies, even by SIGKILL), and the holder
 * answers with its pid so the refusal can say who is using it. Only after taking the lock do we look at
 * the socket file itself: one that still accepts connections belongs to some
 * other server and is left alone; one that refuses them is a leftover of a
 * killed daemon and is replaced. A path that is not a socket is never deleted.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { failedPrecondition, alreadyExists } from '../errdefs/errdefs';

export interface InstanceLock {
  release(): Promise<void>;
}

export type LockedResource = 'socket' | 'root';

const HINT: Record<LockedResource, string> = {
  socket: 'is already serving {path}; stop it first or pass a different --socket',
  root: 'is already using the data root {path}; stop it first or pass a different --root',
};

export async function acquireInstanceLock(resource: LockedResource, guardedPath: string): Promise<InstanceLock> {
  const name = `\0gantryd-${resource}-` + createHash('sha256').update(guardedPath).digest('hex').slice(0, 32);
  const server = net.createServer((conn) => conn.end(JSON.stringify({ pid: process.pid }) + '\n'));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => resolve());
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    const pid = await askHolderPid(name);
    throw alreadyExists(`another gantryd${pid ? ` (pid ${pid})` : ''} ${HINT[resource].replace('{path}', guardedPath)}`);
  }
  server.unref();
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function askHolderPid(lockName: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const conn = net.connect(lockName);
    let data = '';
    conn.setTimeout(2_000, () => conn.destroy());
    conn.on('data', (chunk) => (data += chunk));
    conn.on('error', () => resolve(undefined));
    conn.on('close', () => {
      try {
        resolve((JSON.parse(data) as { pid?: number }).pid);
      } catch {
        resolve(undefined);
      }
    });
  });
}

/** Removes a dead daemon's socket file; refuses when the path is live or not a socket. */
export async function clearStaleSocket(socketPath: string): Promise<'absent' | 'replaced'> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw e;
  }
  if (!stat.isSocket()) {
    throw failedPrecondition(`${socketPath} exists and is not a socket; refusing to replace it`);
  }
  if (await answers(socketPath)) {
    throw alreadyExists(`something is already listening on ${socketPath}; refusing to take it over`);
  }
  fs.unlinkSync(socketPath);
  return 'replaced';
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socketPath);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
}
