/**
 * Safe path resolution for layer entries.
 *
 * `entryPath` turns a tar name into a relative path of plain components,
 * refusing absolute names, `..` components and names the kernel would
 * refuse anyway (NUL, over-long components or paths).
 *
 * `TargetTree` answers "may this entry's parent directory be used, and where
 * is it", creating missing parents, without ever following a symlink: each
 * parent component is lstat'ed once (then cached) in the target and — for an
 * overlay upperdir — in the lowerdirs that are visible at that point, and a
 * symlink (or a non-directory) anywhere in the parent chain refuses the entry.
 * The applier is the only writer of the target while a layer is applied, so
 * what was checked stays true until the applier itself removes something,
 * and it tells the tree (`forget`).
 *
 * The filesystem calls here are synchronous, like the writer's (writer.ts
 * explains why).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { internal, invalidArgument, resourceExhausted } from '../errdefs/errdefs';

/** Longest path (bytes) and path component the kernel accepts (PATH_MAX, NAME_MAX). */
const PATH_MAX = 4095;
const NAME_MAX = 255;

/** Quote an entry name for messages (shows control characters and trailing spaces). */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 300 ? `${name.slice(0, 300)}…` : name);
}

/**
 * The normalised relative path of an entry ('' for the root itself).
 * Refuses absolute paths and every `..` component, naming the entry.
 */
export function entryPath(name: string, what = 'entry'): string {
  if (name.includes('\0')) throw invalidArgument(`${what} ${quoteName(name)}: name contains NUL`);
  if (name.startsWith('/')) throw invalidArgument(`${what} ${quoteName(name)}: absolute path`);
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalidArgument(`${what} ${quoteName(name)}: path contains ".."`);
    if (Buffer.byteLength(part) > NAME_MAX)
      throw invalidArgument(`${what} ${quoteName(name)}: path component longer than ${NAME_MAX} bytes`);
    parts.push(part);
  }
  const rel = parts.join('/');
  if (Buffer.byteLength(rel) > PATH_MAX - 256)
    throw invalidArgument(`${what} ${quoteName(name)}: path longer than ${PATH_MAX - 256} bytes`);
  return rel;
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** True when `rel` is `dir` or inside it. */
export function isWithin(rel: string, dir: string): boolean {
  return dir === '' || rel === dir || (rel.startsWith(dir) && rel.charCodeAt(dir.length) === 47); /* / */
}

/** What the tree knows about a directory that is safe to use. */
export interface DirInfo {
  /** Children created here inherit this group (setgid directory), or undefined. */
  readonly inheritGid: number | undefined;
  /** Indexes of the lowerdirs in which this path is a real directory (merged below). */
  readonly lowers: readonly number[];
  /**
   * The times the directory had before this layer touched it (it existed, or
   * copies a lower directory): restored at the end unless the layer has an
   * entry for the directory itself, so adding or removing children does not
   * change it (as umoci does).
   */
  readonly times?: DirTimes;
}

export interface DirTimes {
  readonly atime: number;
  readonly mtime: number;
}

const timesOf = (st: fs.Stats): DirTimes => ({ atime: st.atimeMs / 1000, mtime: st.mtimeMs / 1000 });

const isWhiteoutDevice = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;

export class TargetTree {
  private readonly dirs = new Map<string, DirInfo>();
  /**
   * @param root the directory written to (an overlay upperdir or a bind source)
   * @param lowers overlay lowerdirs, top-most first ([] for a plain directory)
   * @param egid the group new files get without a setgid parent
   */
  constructor(
    readonly root: string,
    readonly lowers: readonly string[],
    private readonly egid: number,
  ) {
    const st = fs.lstatSync(root);
    if (!st.isDirectory()) throw invalidArgument(`apply target ${root} is not a directory`);
    this.dirs.set('', { inheritGid: setgidOf(st), lowers: lowers.map((_, i) => i), times: timesOf(st) });
  }

  abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** The group a new child of `dir` gets (the caller knows `dir` is a checked directory). */
  groupFor(dir: string): number {
    return this.dirs.get(dir)?.inheritGid ?? this.egid;
  }

  known(dir: string): DirInfo | undefined {
    return this.dirs.get(dir);
  }

  /** Record a directory the applier just made or verified itself. */
  remember(dir: string, info: DirInfo): void {
    this.dirs.set(dir, info);
  }

  /**
   * Makes sure `dir` is a real directory in the target (creating it and its
   * parents when missing). Refuses, naming `entry`, when a component is a
   * symlink or not a directory here or in the visible lowerdirs.
   */
  ensureDir(dir: string, entry: string, onCreate: (dir: string) => void): DirInfo {
    const known = this.dirs.get(dir);
    if (known) return known;
    const parent = this.ensureDir(parentOf(dir), entry, onCreate);
    const found = this.lookup(dir, parent, entry);
    if (found.kind === 'dir') {
      this.dirs.set(dir, found.info);
      return found.info;
    }
    if (found.kind === 'nondir') throw invalidArgument(`entry ${quoteName(entry)}: parent ${quoteName(dir)} is not a directory`);
    // Missing: create it, with the metadata of the lower directory it merges with, if any.
    const lower = found.lowerDir;
    const abs = this.abs(dir);
    try {
      fs.mkdirSync(abs, { mode: 0o755 });
    } catch (e) {
      throw fsError(e, entry, `create parent directory ${quoteName(dir)}`);
    }
    if (lower) {
      try {
        fs.lchownSync(abs, lower.uid, lower.gid);
        fs.chmodSync(abs, lower.mode & 0o7777);
        fs.lutimesSync(abs, lower.atime, lower.mtime);
      } catch (e) {
        throw fsError(e, entry, `copy metadata of lower directory ${quoteName(dir)}`);
      }
    }
    // Without a lower directory to copy, mkdir already gave a set-group-ID parent's group and bit.
    const info: DirInfo = {
      inheritGid: lower ? setgidOf(lower) : parent.inheritGid,
      lowers: found.lowers,
      ...(lower ? { times: timesOf(lower) } : {}),
    };
    this.dirs.set(dir, info);
    onCreate(dir);
    return info;
  }

  /**
   * Like ensureDir but never creates. 'lower' when `dir` is a directory of
   * the merged view that exists only in lowerdirs; 'absent' when it (or a
   * parent) does not exist at all or is not a directory (nothing can be
   * below it). Still refuses symlinks.
   */
  existingDir(dir: string, entry: string): DirInfo | 'lower' | 'absent' {
    const known = this.dirs.get(dir);
    if (known) return known;
    const parent = this.existingDir(parentOf(dir), entry);
    if (parent === 'absent') return 'absent';
    if (parent === 'lower') {
      // Not in the target, so only lowerdirs can have it.
      const lowers = this.lowerDirs(dir, entry);
      return lowers.length > 0 ? 'lower' : 'absent';
    }
    const found = this.lookup(dir, parent, entry, true);
    if (found.kind === 'dir') {
      this.dirs.set(dir, found.info);
      return found.info;
    }
    if (found.kind === 'nondir') return 'absent';
    return found.lowers.length > 0 ? 'lower' : 'absent';
  }

  /** The lowerdirs in which `dir` is a real directory, walking from the root (no target involved). */
  private lowerDirs(dir: string, entry: string): number[] {
    let info: DirInfo = this.dirs.get('')!;
    let prefix = '';
    for (const part of dir.split('/')) {
      prefix = prefix === '' ? part : `${prefix}/${part}`;
      const known = this.dirs.get(prefix);
      if (known) {
        info = known;
        continue;
      }
      const found = this.lookupLowers(prefix, info.lowers, entry, false, true);
      if (found === 'nondir' || found.lowers.length === 0) return [];
      info = { inheritGid: undefined, lowers: found.lowers };
    }
    return [...info.lowers];
  }

  /** Drop what is known about `rel` and everything below it (it was removed or replaced). */
  forget(rel: string): void {
    for (const key of this.dirs.keys()) {
      if (key !== '' && isWithin(key, rel)) this.dirs.delete(key);
    }
  }

  /**
   * What `dir` is: a directory of the target, missing from it (with what the
   * lowerdirs have), or — with `nonDirOk` — some other non-symlink file.
   * Symlinks always refuse the entry; other non-directories do unless `nonDirOk`.
   */
  private lookup(
    dir: string,
    parent: DirInfo,
    entry: string,
    nonDirOk = false,
  ): { kind: 'dir'; info: DirInfo } | { kind: 'missing'; lowers: number[]; lowerDir?: fs.Stats } | { kind: 'nondir' } {
    const st = lstatOrNull(this.abs(dir));
    if (st) {
      if (st.isSymbolicLink()) throw invalidArgument(`entry ${quoteName(entry)}: parent ${quoteName(dir)} is a symlink`);
      if (!st.isDirectory()) {
        if (nonDirOk) return { kind: 'nondir' };
        throw invalidArgument(`entry ${quoteName(entry)}: parent ${quoteName(dir)} is not a directory`);
      }
    }
    const found = this.lookupLowers(dir, parent.lowers, entry, !!st, nonDirOk);
    if (found === 'nondir') return { kind: 'nondir' };
    const { lowers, lowerDir } = found;
    if (st) return { kind: 'dir', info: { inheritGid: setgidOf(st), lowers, times: timesOf(st) } };
    return lowerDir ? { kind: 'missing', lowers, lowerDir } : { kind: 'missing', lowers };
  }

  /**
   * The merged view of `dir` in the lowerdirs `candidates` (those where its
   * parent is a real directory), top-most first: the lowers where it is a
   * directory, until a whiteout or a non-directory hides the rest. A
   * top-most symlink or non-directory refuses the entry, unless the target
   * itself has the path (`shadowed`), which hides every lower.
   */
  private lookupLowers(
    dir: string,
    candidates: readonly number[],
    entry: string,
    shadowed: boolean,
    nonDirOk = false,
  ): { lowers: number[]; lowerDir?: fs.Stats } | 'nondir' {
    const lowers: number[] = [];
    let lowerDir: fs.Stats | undefined;
    for (const i of candidates) {
      const lst = lstatOrNull(path.join(this.lowers[i], dir));
      if (!lst) continue;
      if (isWhiteoutDevice(lst)) break;
      if (lst.isDirectory()) {
        lowers.push(i);
        lowerDir ??= lst;
        continue;
      }
      if (lowers.length === 0 && !shadowed) {
        if (lst.isSymbolicLink())
          throw invalidArgument(`entry ${quoteName(entry)}: parent ${quoteName(dir)} is a symlink in a lower layer`);
        if (nonDirOk) return 'nondir';
        throw invalidArgument(`entry ${quoteName(entry)}: parent ${quoteName(dir)} is not a directory in a lower layer`);
      }
      break;
    }
    return lowerDir ? { lowers, lowerDir } : { lowers };
  }
}

function setgidOf(st: fs.Stats): number | undefined {
  return st.mode & 0o2000 ? st.gid : undefined;
}

/** lstat, or null when nothing is there. */
export function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/**
 * A failed filesystem call while applying `entry`, as a GantryError: the
 * kernel refusing the layer's content (bad names, wrong types) is
 * InvalidArgument; a full disk is ResourceExhausted; the rest is Internal.
 */
export function fsError(e: unknown, entry: string, doing: string): Error {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const message = `entry ${quoteName(entry)}: ${doing}: ${(e as Error).message}`;
  switch (code) {
    case 'ENAMETOOLONG':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ELOOP':
    case 'EINVAL':
    case 'EMLINK':
    case 'ENOTEMPTY':
    case 'EPERM':
    case 'ENOENT':
      return invalidArgument(message, e);
    case 'ENOSPC':
    case 'EDQUOT':
      return resourceExhausted(message, e);
    default:
      return internal(message, e);
  }
}
