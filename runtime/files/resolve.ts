/**
 * Path resolution confined to a root directory, one component at a time,
 * from directory descriptors, never letting the kernel follow a link.
 *
 * A container can change its own files while gantryd works on them, e.g.
 * swap a directory for a symlink to `/` between our check and our use
 * (CVE-2018-15664 in Docker). So nothing here resolves a host path string:
 * every step opens the next component relative to the descriptor of the
 * directory before it (through `/proc/self/fd/N/NAME`, which Node can reach)
 * with O_PATH|O_NOFOLLOW. A symlink is read and its target resolved the same
 * way, from the root for an absolute target, so `..` and absolute links stop
 * at the root exactly as they would inside the container. The final
 * operation uses the parent's descriptor and a name, or reopens the checked
 * inode itself. Design: docs/files.md.
 */
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { invalidArgument } from '../errdefs/errdefs';
import { fileError } from './errors';

/** Linux's O_PATH (x86_64 and arm64): a descriptor for a place, not for I/O. Node does not export it. */
export const O_PATH = 0o10000000;
/** The kernel's own limit on links followed in one lookup (MAXSYMLINKS). */
const MAX_LINKS = 40;

/** `/proc/self/fd/N[/name]`: how a descriptor-relative path is spelled for Node's path-based calls. */
export function fdPath(handle: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${handle.fd}` : `/proc/self/fd/${handle.fd}/${name}`;
}

/** Opens `rootPath` (following links: it is the host's choice) as the root of a confined tree. */
export async function openRoot(rootPath: string): Promise<FileHandle> {
  return fsp.open(rootPath, O_PATH | C.O_DIRECTORY);
}

/** Components of a container path; `''` and `.` dropped, `..` kept for the walk. */
export function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** A container path in canonical form, for messages and answers. */
export function cleanPath(path: string): string {
  const out: string[] = [];
  for (const c of components(path)) {
    if (c === '..') out.pop();
    else out.push(c);
  }
  return '/' + out.join('/');
}

/**
 * Where a path led. `parent` + `name` name the final entry (absent for the
 * root itself, or a path that ends in `..`); `handle` is the entry opened
 * O_PATH|O_NOFOLLOW when it exists. The caller owns it all: call release().
 */
export interface Resolved {
  /** The path as asked, cleaned (for messages). */
  readonly path: string;
  /** Where it led, links resolved: the path the container would see. */
  readonly realPath: string;
  readonly parent?: FileHandle;
  readonly name?: string;
  readonly handle?: FileHandle;
  release(): Promise<void>;
}

/**
 * Resolves `path` under `root`. Every component but the last must be a
 * directory (or a link to one); the last is followed when `followFinal`.
 * A missing last component is not an error (the caller creates it); a
 * missing earlier one is NotFound.
 */
export async function resolveInRoot(root: FileHandle, path: string, followFinal: boolean): Promise<Resolved> {
  const display = cleanPath(path);
  const stack: FileHandle[] = [];
  /** The names of `stack`'s directories: the real path walked so far. */
  const names: string[] = [];
  const held = new Set<FileHandle>();
  const release = async () => {
    // At once: each close is a trip through libuv's pool.
    const handles = [...held];
    held.clear();
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  };
  let pending = components(path);
  let links = 0;
  try {
    while (pending.length) {
      const name = pending.shift()!;
      const last = pending.length === 0;
      const dir = stack.at(-1) ?? root;
      if (name === '..') {
        const up = stack.pop();
        names.pop();
        if (up) {
          held.delete(up);
          await up.close();
        }
        continue;
      }
      let entry: FileHandle;
      try {
        entry = await fsp.open(fdPath(dir, name), O_PATH | C.O_NOFOLLOW);
      } catch (e) {
        if (last && (e as NodeJS.ErrnoException).code === 'ENOENT') {
          return done(dir, name, undefined);
        }
        throw e;
      }
      held.add(entry);
      const st = await entry.stat();
      if (st.isSymbolicLink() && (!last || followFinal)) {
        if (++links > MAX_LINKS) throw Object.assign(new Error('too many links'), { code: 'ELOOP' });
        // Read through the parent: the entry may have changed since we
        // opened it, which is harmless — whatever it says now is resolved
        // inside the root all the same.
        const target = await fsp.readlink(fdPath(dir, name));
        held.delete(entry);
        await entry.close();
        if (target.startsWith('/')) {
          names.splice(0);
          for (const h of stack.splice(0)) {
            held.delete(h);
            await h.close();
          }
        }
        pending = [...components(target), ...pending];
        continue;
      }
      if (last) return done(dir, name, entry);
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      stack.push(entry);
      names.push(name);
    }
    // The root itself, or a path ending in `..`: only the directory, no parent entry.
    return { path: display, realPath: '/' + names.join('/'), handle: stack.at(-1) ?? root, release };
  } catch (e) {
    await release();
    throw fileError(e, display, 'cannot resolve');
  }

  // Every handle on the stack and the final entry are in `held`; the root is the caller's.
  function done(parent: FileHandle, name: string, handle: FileHandle | undefined): Resolved {
    return { path: display, realPath: '/' + [...names, name].join('/'), parent, name, handle, release };
  }
}

/** Refuses the root and `..`-ended paths for operations that need a parent and a name. */
export function requireEntry(r: Resolved, what: string): { parent: FileHandle; name: string } {
  if (!r.parent || r.name === undefined) throw invalidArgument(`cannot ${what} ${r.path}: it is the root or a parent directory`);
  return { parent: r.parent, name: r.name };
}
