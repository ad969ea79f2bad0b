/**
 * The walk behind `gantry diff` and `commit`: what a container's tree
 * (`upper`) changed against the tree below it (`lower`, a directory holding
 * the whole lower tree, or undefined for an image with no layers).
 *
 * - `overlay`: `upper` is an overlayfs upper dir and holds only what changed.
 *   A char 0/0 device is a whiteout (the name was deleted); a directory with
 *   `trusted.overlay.opaque=y` replaced the lower one, whose entries are
 *   then deleted. Paths in upper that exist below are changed, the others
 *   added; a directory whose mode and owner are those below is not itself a
 *   change (overlay copied it up to hold a change inside).
 * - `full`: `upper` is the whole tree (the native snapshotter's copy), and
 *   both trees are walked side by side, as containerd's fs.Changes double
 *   walk does: a path only below is deleted (its subtree is not listed), a
 *   path only above is added, a path in both is changed when its type,
 *   mode, owner, size, mtime, device or link target differ (directories:
 *   type, mode, owner).
 *
 * Directory mtimes are not compared: adding or deleting an entry moves
 * them, and the parent rule of changes.ts lists such a directory anyway.
 * Entries come out sorted by name, parents before children.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { XattrMap } from './xattrDump';

export type RawKind = 'A' | 'C' | 'D';

export interface RawChange {
  readonly kind: RawKind;
  /** Relative to the root, '/'-separated, never ''. */
  readonly rel: string;
  /** The entry in `upper` (absent for a deletion). */
  readonly stat?: fs.Stats;
  /** An overlay directory that hides what was below it. */
  readonly opaque?: boolean;
}

export interface WalkInput {
  readonly mode: 'overlay' | 'full';
  readonly upper: string;
  readonly lower: string | undefined;
  /** The upper tree's attributes (overlay: to see opaque directories). */
  readonly xattrs: XattrMap;
  readonly signal?: AbortSignal;
}

export function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function namesOf(dir: string | undefined): Promise<string[]> {
  if (dir === undefined) return [];
  try {
    return await fs.promises.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}

function sameMeta(a: fs.Stats, b: fs.Stats): boolean {
  return (a.mode & 0o177777) === (b.mode & 0o177777) && a.uid === b.uid && a.gid === b.gid;
}

function sameEntry(a: fs.Stats, b: fs.Stats): boolean {
  if (!sameMeta(a, b)) return false;
  if (a.isDirectory()) return true;
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.rdev === b.rdev;
}

function isOpaque(xattrs: XattrMap, rel: string): boolean {
  const v = xattrs.get(rel)?.get('trusted.overlay.opaque') ?? xattrs.get(rel)?.get('user.overlay.opaque');
  return v?.toString() === 'y';
}

/** Every change, in walk order (names sorted in each directory). */
export async function walkChanges(input: WalkInput): Promise<RawChange[]> {
  const out: RawChange[] = [];
  await visit(input, '', true, false, out);
  return out;
}

/**
 * `lowerVisible`: the directory exists below (else everything in it is added);
 * `hidden`: an opaque ancestor hides what is below, so names only below are deleted.
 */
async function visit(input: WalkInput, relDir: string, lowerVisible: boolean, hidden: boolean, out: RawChange[]): Promise<void> {
  if (input.signal?.aborted) throw input.signal.reason;
  const upperDir = path.join(input.upper, relDir);
  const lowerDir = lowerVisible && input.lower !== undefined ? path.join(input.lower, relDir) : undefined;
  const upperNames = await namesOf(upperDir);
  const opaqueHere = hidden || (input.mode === 'overlay' && relDir !== '' && isOpaque(input.xattrs, relDir));
  // Names only below are listed in full mode (deletions), and under an opaque directory.
  const lowerNames = input.mode === 'full' || opaqueHere ? await namesOf(lowerDir) : [];
  const names = [...new Set([...upperNames, ...lowerNames])].sort();
  const inUpper = new Set(upperNames);
  for (const name of names) {
    const rel = relDir === '' ? name : `${relDir}/${name}`;
    const below = lowerDir !== undefined ? await lstatOrUndefined(path.join(lowerDir, name)) : undefined;
    if (!inUpper.has(name)) {
      if (below) out.push({ kind: 'D', rel });
      continue;
    }
    const st = await fs.promises.lstat(path.join(upperDir, name));
    if (input.mode === 'overlay' && isWhiteout(st)) {
      if (below) out.push({ kind: 'D', rel });
      continue;
    }
    const opaque = input.mode === 'overlay' && st.isDirectory() && isOpaque(input.xattrs, rel);
    let kind: RawKind | undefined;
    if (!below) kind = 'A';
    else if (st.isDirectory() && below.isDirectory() && !opaque && sameMeta(st, below)) kind = undefined;
    else if (input.mode === 'full' && !st.isDirectory() && sameEntry(st, below) && (await sameLink(input, rel, st))) kind = undefined;
    else kind = 'C';
    if (kind) out.push({ kind, rel, stat: st, ...(opaque ? { opaque } : {}) });
    if (st.isDirectory()) {
      await visit(input, rel, !!below && below.isDirectory(), opaqueHere || opaque, out);
    }
  }
}

async function sameLink(input: WalkInput, rel: string, st: fs.Stats): Promise<boolean> {
  if (!st.isSymbolicLink() || input.lower === undefined) return true;
  const [a, b] = await Promise.all([fs.promises.readlink(path.join(input.upper, rel)), fs.promises.readlink(path.join(input.lower, rel))]);
  return a === b;
}
