/**
 * The client's side of local file access (docs/files.md, "Local access"):
 * gantryd resolves a path inside the container's root, opens it and names
 * its descriptor (`/proc/<gantryd>/fd/<n>`); a client on the same machine
 * that may open gantryd's descriptors (root, or the user of a rootless
 * gantryd) opens that very file itself and reads it with no copy through a
 * socket. Nothing is opened unless the path is gantryd's (same boot, same
 * process start time), and what was opened is kept only if it is the file
 * gantryd named (device and inode). The kernel checks the client's own
 * permission on the file as it opens it.
 */
import * as fs from 'node:fs';
import type { DirectoryEntry } from '../api/directoryColumns';
import { FileType, type LocalHandle } from '../api/gen/gantry/v1/files';
import { readAt } from '../util/files';
import { bootId, startTimeOf } from '../util/procIdentity';

/** Why a handle could not be used; `lasting`: no handle from this daemon will be (another machine, no access to its descriptors). */
export class LocalAccessUnavailable extends Error {
  constructor(
    message: string,
    readonly lasting: boolean,
  ) {
    super(message);
  }
}

const HANDLE_PATH = /^\/proc\/(\d+)\/fd\/(\d+)$/;

/** Opens what `h` names, checked as above; the caller closes the descriptor. Throws LocalAccessUnavailable. */
export function openLocalHandle(h: LocalHandle, directory: boolean): number {
  const m = HANDLE_PATH.exec(h.path);
  if (!m) throw new LocalAccessUnavailable(`not a descriptor path: ${h.path}`, true);
  if (h.bootId !== bootId()) throw new LocalAccessUnavailable('gantryd runs on another machine', true);
  const pid = Number(m[1]);
  if (!h.startTime || startTimeOf(pid) !== h.startTime) throw new LocalAccessUnavailable(`process ${pid} here is not gantryd`, true);
  let fd: number;
  try {
    // O_NONBLOCK and O_NOCTTY: whatever is there, opening it neither waits nor takes a terminal.
    const flags = fs.constants.O_RDONLY | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK | (directory ? fs.constants.O_DIRECTORY : 0);
    fd = fs.openSync(h.path, flags);
  } catch (e) {
    // gantryd's descriptors are out of reach for this user (a system
    // gantryd, a client that is not root): so it will stay. Otherwise it is
    // this file (a rootless gantryd's file this user may not read).
    throw new LocalAccessUnavailable((e as Error).message, !canSeeDescriptors(pid));
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    if (String(st.dev) !== h.dev || String(st.ino) !== h.ino)
      throw new LocalAccessUnavailable(`${h.path} is not the file gantryd opened`, false);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

function canSeeDescriptors(pid: number): boolean {
  try {
    fs.accessSync(`/proc/${pid}/fd`, fs.constants.R_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The largest chunk of a local read: fewer, larger reads cost less (each is a trip through libuv's pool). */
const CHUNK = 4 * 1024 * 1024;

/**
 * `length` bytes (0: to the end) from `offset` of an open file of `size`
 * bytes (its size when it was opened: what it holds beyond that is not
 * read), as chunks of their own (a consumer may keep them); ends early at
 * the file's end, or when `signal` aborts.
 */
export async function* readLocal(fd: number, size: number, offset: number, length: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const end = length ? Math.min(size, offset + length) : size;
  for (let position = offset; position < end && !signal?.aborted;) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - position));
    const n = await readAt(fd, buf, buf.length, position);
    if (n === 0) return;
    position += n;
    yield buf.subarray(0, n);
  }
}

/**
 * The names and types of an open directory's entries; undefined when one
 * is a symlink: where a link leads must be resolved inside the container's
 * root, which only gantryd does.
 */
export function listLocal(fd: number): DirectoryEntry[] | undefined {
  // One component below our own verified descriptor: nothing is re-resolved.
  // Synchronous: a trip through libuv's pool cost more than the ~7 ms a
  // 10,000-entry directory takes (docs/performance.md, the files benchmark).
  const entries = fs.readdirSync(`/proc/self/fd/${fd}`, { withFileTypes: true });
  const out = new Array<DirectoryEntry>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.isSymbolicLink()) return undefined;
    const type = e.isFile() ? FileType.FILE_TYPE_FILE : e.isDirectory() ? FileType.FILE_TYPE_DIRECTORY : FileType.FILE_TYPE_OTHER;
    out[i] = { name: e.name, type, targetType: FileType.FILE_TYPE_UNSPECIFIED };
  }
  return out;
}
