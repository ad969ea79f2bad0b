/**
 * One gantryd per socket, and one per data root (two daemons writing the same
 * content store and event log would corrupt each other's view).
 *
 * A lock is a Linux *abstract* unix socket named after what it guards (the
 * socket path, the root path): binding it is atomic, it cannot go stale (the
 * kernel frees it when the process dies, even by SIGKILL), and the holder
 * answers with its pid so the refusal can say who is using it.
 *
 * Abstract names have no permissions: any local user, or a `--network host`
 * container, could bind a name it can compute and so keep gantryd from ever
 * starting. The name therefore also hashes a random secret kept beside what
 * it guards (`.gantryd-lock-secret` in the data root, and in the socket's
 * directory), readable only by the daemon's user. A secret file that someone
 * else owns or could read is refused rather than trusted.
 *
 * Only after taking the lock do we look at
 * the socket file itself: one that still accepts connections belongs to some
 * other server and is left alone; one that refuses them is a leftover of a
 * killed daemon and is replaced. A path that is not a socket is never deleted.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { failedPrecondition, alreadyExists } from '../errdefs/errdefs';

export interface InstanceLock {
  release(): Promise<void>;
}

export type LockedResource = 'socket' | 'root';

const HINT: Record<LockedResource, string> = {
  socket: 'is already serving {path}; stop it first or pass a different --socket',
  root: 'is already using the data root {path}; stop it first or pass a different --root',
};

/** The file beside a guarded path that holds its lock secret. */
export const LOCK_SECRET_FILE = '.gantryd-lock-secret';

export async function acquireInstanceLock(resource: LockedResource, guardedPath: string): Promise<InstanceLock> {
  const secretDir = resource === 'root' ? guardedPath : path.dirname(guardedPath);
  const name =
    `\0gantryd-${resource}-` +
    createHash('sha256').update(lockSecret(secretDir)).update('\0').update(guardedPath).digest('hex').slice(0, 32);
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

/**
 * The secret in `dir`, made on first use: 32 random bytes, mode 0600,
 * created with O_EXCL and read with O_NOFOLLOW so nobody can slip in a file
 * or a link of their own.
 */
function lockSecret(dir: string): string {
  const file = path.join(dir, LOCK_SECRET_FILE);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw failedPrecondition(`${file} is a symbolic link; refusing to use it as gantryd's lock secret`);
      if (code !== 'ENOENT' || attempt > 0) throw e;
      try {
        const created = fs.openSync(
          file,
          fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
          0o600,
        );
        try {
          fs.writeSync(created, randomBytes(32).toString('hex'));
        } finally {
          fs.closeSync(created);
        }
      } catch (created) {
        // Another gantryd made it first: read theirs.
        if ((created as NodeJS.ErrnoException).code !== 'EEXIST') throw created;
      }
      continue;
    }
    try {
      const stat = fs.fstatSync(fd);
      const uid = process.getuid?.() ?? 0;
      if (!stat.isFile() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
        throw failedPrecondition(
          `${file} must be a file owned by uid ${uid} and readable by nobody else (it is ${stat.isFile() ? `owned by uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}` : 'not a file'}); ` +
            'remove it and start gantryd again',
        );
      }
      const secret = fs.readFileSync(fd, 'utf8');
      if (secret.length < 32) throw failedPrecondition(`${file} is too short to be a lock secret; remove it and start gantryd again`);
      return secret;
    } finally {
      fs.closeSync(fd);
    }
  }
}

async function askHolderPid(lockName: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const conn = net.connect(lockName);
    let data = '';
    conn.setTimeout(2_000, () => conn.destroy());
    conn.on('data', (chunk) => (data += String(chunk)));
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
