/**
 * Reading a file of a container's root filesystem as if that filesystem
 * were `/` — for /etc/passwd and /etc/group, which come from an untrusted
 * image.
 *
 * An image can make /etc, /etc/passwd or any parent a symlink, absolute
 * (`/etc` → `/`) or relative (`../../../etc`), hoping the daemon reads a
 * host file. Here symlinks are followed the way the kernel would inside a
 * chroot at the rootfs (Docker's FollowSymlinkInScope semantics): an
 * absolute target restarts at the rootfs, `..` never climbs above it.
 *
 * The walk holds an O_PATH descriptor for each directory reached and looks
 * the next component up *through that descriptor*
 * (`/proc/self/fd/<fd>/<name>`, Node's stand-in for openat), handling `..`
 * itself from its stack of descriptors. So a container process swapping a
 * directory for a symlink while we read (an exec into a running container)
 * cannot redirect the walk: no path string is ever resolved from the host's
 * `/`. The last component is opened O_NOFOLLOW|O_NONBLOCK and must be a
 * regular file (a FIFO would block, /dev/zero would never end), of bounded
 * size.
 */
import * as fs from 'node:fs';
import { internal, invalidArgument } from '../../errdefs/errdefs';

// Not exported by Node; the same value on every Linux architecture we run on (x86_64, aarch64).
const O_PATH = 0o10000000;
const { O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_RDONLY } = fs.constants;

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code ?? '';

/**
 * The bytes of `file` (absolute, as the container sees it) inside `root`,
 * or null when it does not exist (a missing component, or a non-directory
 * in the middle, is "missing" as ENOENT/ENOTDIR would be). InvalidArgument
 * when it is not a regular file, is larger than `maxBytes`, or the symlinks
 * loop.
 */
export async function readFileInRoot(root: string, file: string, maxBytes = DEFAULT_MAX_BYTES): Promise<Buffer | null> {
  const stack: fs.promises.FileHandle[] = [await fs.promises.open(root, O_PATH | O_DIRECTORY)];
  const top = () => stack[stack.length - 1];
  const at = (name: string) => `/proc/self/fd/${top().fd}/${name}`;
  try {
    const pending = file.split('/');
    let links = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (stack.length > 1) await stack.pop()!.close();
        continue;
      }
      const st = await lstatOrNull(at(name));
      if (!st) return null;
      if (st.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw invalidArgument(`${file} in the container: too many levels of symbolic links`);
        const target = await fs.promises.readlink(at(name));
        if (target.startsWith('/')) while (stack.length > 1) await stack.pop()!.close();
        pending.unshift(...target.split('/'));
        continue;
      }
      if (pending.some((p) => p !== '' && p !== '.')) {
        if (!st.isDirectory()) return null;
        stack.push(await openDir(at(name), file));
        continue;
      }
      if (!st.isFile()) throw invalidArgument(`${file} in the container is not a regular file`);
      return await readRegular(at(name), file, maxBytes);
    }
    throw invalidArgument(`${file} in the container is not a regular file`);
  } finally {
    for (const h of stack) await h.close();
  }
}

async function lstatOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.lstat(p);
  } catch (e) {
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return null;
    throw internal(`lstat ${p}: ${(e as Error).message}`, e);
  }
}

async function openDir(p: string, file: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(p, O_PATH | O_DIRECTORY | O_NOFOLLOW);
  } catch (e) {
    // It was a directory a moment ago: something is changing the rootfs under us.
    throw invalidArgument(`${file} in the container: a parent changed while it was read (${errno(e)})`, e);
  }
}

async function readRegular(p: string, file: string, maxBytes: number): Promise<Buffer> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  } catch (e) {
    throw invalidArgument(`${file} in the container cannot be opened: ${errno(e) || (e as Error).message}`, e);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw invalidArgument(`${file} in the container is not a regular file`);
    if (st.size > maxBytes) throw invalidArgument(`${file} in the container is larger than ${maxBytes} bytes`);
    // Read at most maxBytes + 1 even if the file grows meanwhile.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, null);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n === buf.length) break;
    }
    if (n > maxBytes) throw invalidArgument(`${file} in the container is larger than ${maxBytes} bytes`);
    return buf.subarray(0, n);
  } finally {
    await handle.close();
  }
}
