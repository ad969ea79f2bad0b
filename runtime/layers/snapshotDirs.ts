/**
 * Reading layers from snapshot directories (layers.ts defines the terms).
 *
 * - `snapshotEntries`: an overlay layer's own directory as entries: a char
 *   device 0/0 is a whiteout, a directory with `trusted.overlay.opaque=y`
 *   is opaque (what the applier wrote for `.wh.NAME` and `.wh..wh..opq`,
 *   runtime/unpack/unpack.ts).
 * - `OverlayStack`: the merged tree of overlay layer dirs (nearest first)
 *   with overlay's rules: a whiteout or a non-directory hides the path in
 *   the layers under it, an opaque directory hides their contents.
 * - `FullTree`: a native snapshot's full copy, looked up directly.
 *
 * Every lookup walks one component at a time with lstat and descends only
 * into real directories, so a link in a layer never leads out of it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTool } from '../mount/mounter';
import { OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR } from '../unpack/whiteouts';
import { joinPath } from './changes';
import type { LayerEntry, LayerEntryKind, LowerTree } from './layers';

function kindOf(st: fs.Stats): LayerEntryKind {
  if (st.isCharacterDevice() && st.rdev === 0) return 'whiteout';
  if (st.isDirectory()) return 'directory';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** The directories under `dir` marked opaque, as absolute paths inside the layer ("/a/b"). */
export async function opaqueDirs(dir: string, signal?: AbortSignal): Promise<Set<string>> {
  // trusted.overlay.opaque, or user.overlay.opaque where the overlay mounts use `userxattr` (rootless, docs/rootless.md).
  const names = [OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR];
  const pattern = `^(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})$`;
  const dump = (await runTool('getfattr', ['-R', '-P', '-d', '-m', pattern, '.'], { cwd: dir, signal })).stdout.toString('utf8');
  const out = new Set<string>();
  let file: string | undefined;
  for (const line of dump.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeDumpName(line.slice('# file: '.length));
    else if (file !== undefined && names.some((n) => line.startsWith(`${n}=`)) && /="?y"?$/.test(line)) {
      const rel = file.replace(/^\.\/?/, '');
      out.add(rel === '' ? '/' : `/${rel}`);
    }
  }
  return out;
}

/** getfattr's dump names escape unusual bytes as \ooo (octal). */
export function unescapeDumpName(s: string): string {
  if (!s.includes('\\')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i));
    if (m) {
      bytes.push(parseInt(m[1], 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** An overlay layer's own directory as entries (the root itself is not one). */
export async function snapshotEntries(dir: string, opaque: ReadonlySet<string>, signal?: AbortSignal): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  const inodes = new Set<string>();
  const walk = async (rel: string): Promise<void> => {
    if (signal?.aborted) throw signal.reason;
    const names = await fs.promises.readdir(path.join(dir, rel));
    for (const name of names) {
      const p = joinPath(rel, name);
      const st = await fs.promises.lstat(path.join(dir, p));
      const kind = kindOf(st);
      const size = kind === 'file' || kind === 'symlink' ? st.size : 0;
      // A second name of a file (a hard link) is listed but its bytes counted once.
      const key = `${st.dev}:${st.ino}`;
      const linked = kind === 'file' && st.nlink > 1 && inodes.has(key);
      if (kind === 'file' && st.nlink > 1) inodes.add(key);
      out.push({ path: p, kind, size, ...(linked ? { linked } : {}), ...(kind === 'directory' && opaque.has(p) ? { opaque: true } : {}) });
      if (kind === 'directory') await walk(p);
    }
  };
  await walk('/');
  return out;
}

type Probe = { readonly kind: 'absent' | 'hidden' | 'whiteout' | 'directory' | 'other'; readonly opaqueAbove: boolean };

/** One layer dir looked up as overlay would: what it says about `p`. */
async function probe(dir: string, opaque: ReadonlySet<string>, p: string): Promise<Probe> {
  const parts = p.split('/').filter(Boolean);
  let rel = '';
  let opaqueAbove = false;
  for (let i = 0; i < parts.length; i++) {
    if (opaque.has(rel || '/')) opaqueAbove = true;
    rel = `${rel}/${parts[i]}`;
    let st: fs.Stats;
    try {
      st = await fs.promises.lstat(path.join(dir, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent', opaqueAbove };
      throw e;
    }
    const kind = kindOf(st);
    const last = i === parts.length - 1;
    if (kind === 'whiteout') return { kind: last ? 'whiteout' : 'hidden', opaqueAbove };
    if (kind !== 'directory') return { kind: last ? 'other' : 'hidden', opaqueAbove };
  }
  return { kind: 'directory', opaqueAbove };
}

export class OverlayStack implements LowerTree {
  /** `layers`: own dirs with their opaque sets, nearest first. */
  constructor(private readonly layers: readonly { readonly dir: string; readonly opaque: ReadonlySet<string> }[]) {}

  async exists(p: string): Promise<boolean> {
    for (const l of this.layers) {
      const r = await probe(l.dir, l.opaque, p);
      if (r.kind === 'directory' || r.kind === 'other') return true;
      if (r.kind !== 'absent' || r.opaqueAbove) return false;
    }
    return false;
  }

  async children(p: string): Promise<string[]> {
    const seen = new Set<string>();
    const names: string[] = [];
    for (const l of this.layers) {
      const r = await probe(l.dir, l.opaque, p);
      if (r.kind === 'whiteout' || r.kind === 'hidden' || r.kind === 'other') break;
      if (r.kind === 'directory') {
        for (const name of await fs.promises.readdir(path.join(l.dir, p))) {
          if (seen.has(name)) continue;
          seen.add(name);
          const st = await fs.promises.lstat(path.join(l.dir, p, name));
          if (kindOf(st) !== 'whiteout') names.push(name);
        }
        if (l.opaque.has(p)) break;
      } else if (r.opaqueAbove) break;
    }
    return names.sort();
  }
}

export class FullTree implements LowerTree {
  constructor(private readonly dir: string) {}

  private async lookup(p: string): Promise<fs.Stats | undefined> {
    let rel = '';
    let st: fs.Stats | undefined;
    for (const part of p.split('/').filter(Boolean)) {
      if (st && !st.isDirectory()) return undefined;
      rel = `${rel}/${part}`;
      try {
        st = await fs.promises.lstat(path.join(this.dir, rel));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    }
    return st ?? (await fs.promises.lstat(this.dir));
  }

  async exists(p: string): Promise<boolean> {
    return (await this.lookup(p)) !== undefined;
  }

  async children(p: string): Promise<string[]> {
    const st = await this.lookup(p);
    if (!st?.isDirectory()) return [];
    return (await fs.promises.readdir(path.join(this.dir, p))).sort();
  }
}
