/**
 * Container changes: what a container's root filesystem changed against its
 * image, in `docker diff`'s A/C/D terms, and the two tars made of it — the
 * layer `commit` stores (OCI whiteouts) and the flat tree `export` writes.
 *
 * Terms
 * - The *active* mounts are the container snapshot's (snapshots/); *below*
 *   is a read-only view of its parent, the image's top layer (absent for an
 *   image with no layers).
 * - A change is Added (not below), Changed (below, and replaced or its
 *   metadata changed) or Deleted (below, gone: a whiteout, or an entry of a
 *   directory made opaque). walk.ts has the per-snapshotter rules.
 *
 * Rules (Docker's, docs/files.md "Changes")
 * - Every change's parent directory is listed as Changed (so up to the
 *   root), unless it was Added.
 * - Paths the runtime made as mount points (`/etc/hosts` and the like, when
 *   the image has none) are not changes, and nor are the directories made
 *   only to hold them.
 * - The list is sorted by path, parents before children.
 *
 * The layer tar holds, for every change, the entry as it is in the upper
 * tree (with owner, mode, mtime, xattrs, hardlinks), `.wh.NAME` for a
 * deletion, `.wh..wh..opq` inside an opaque directory, and every parent
 * directory of those entries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import type { Mount } from '../mount/mount';
import { TarWriter } from './tarWriter';
import { mergedMounts, upperOf, withTree } from './trees';
import { walkChanges, type RawChange, type RawKind } from './walk';
import { dumpXattrs, type XattrMap } from './xattrDump';

export type ChangeKind = RawKind;
export type ChangeFileType = 'file' | 'directory' | 'symlink' | 'other';

export interface Change {
  readonly kind: ChangeKind;
  /** Absolute inside the container: "/etc/passwd". */
  readonly path: string;
  /** What the path is now; absent for a deletion. */
  readonly type?: ChangeFileType;
  /** A regular file's size now; 0 otherwise. */
  readonly size: number;
}

export interface ChangeTrees {
  readonly active: readonly Mount[];
  readonly below?: readonly Mount[];
}

export interface ChangeOptions {
  /** Where trees of several layers are mounted for the call. */
  readonly scratch: string;
  /** The container's mount destinations ("/etc/hosts", volume paths); "/" is ignored. */
  readonly mountpoints: readonly string[];
}

/** What `gantry diff` lists. */
export async function listChanges(ctx: Ctx, trees: ChangeTrees, options: ChangeOptions): Promise<Change[]> {
  const { changes } = await collect(ctx, trees, options);
  return changes.map((c) => ({
    kind: c.kind,
    path: `/${c.rel}`,
    ...(c.stat ? { type: typeOf(c.stat) } : {}),
    size: c.stat?.isFile() ? c.stat.size : 0,
  }));
}

/** The layer `commit` stores, as an uncompressed tar stream; the mounts are held until it is read to the end or destroyed. */
export function layerTar(ctx: Ctx, trees: ChangeTrees, options: ChangeOptions): AsyncIterable<Buffer> {
  return produce(async (writer) => {
    const { changes, upper, xattrs } = await collect(ctx, trees, options);
    const written = new Set<string>();
    const ensureDir = async (rel: string) => {
      if (rel === '' || written.has(rel)) return;
      await ensureDir(parentOf(rel));
      written.add(rel);
      const abs = path.join(upper, rel);
      await writer.add(`${rel}/`, abs, await fs.promises.lstat(abs), xattrs.get(rel));
    };
    // Under an opaque directory the marker already hides everything below; a
    // `.wh.NAME` there too would become a whiteout device in a directory that
    // overlay does not merge, where readdir shows it (docs/transfer.md, commit).
    const opaqueDirs = new Set<string>();
    const underOpaque = (rel: string): boolean => {
      for (let dir = parentOf(rel); dir !== ''; dir = parentOf(dir)) if (opaqueDirs.has(dir)) return true;
      return false;
    };
    for (const c of changes) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (c.kind === 'D' && underOpaque(c.rel)) continue;
      await ensureDir(parentOf(c.rel));
      if (c.opaque) opaqueDirs.add(c.rel);
      if (c.kind === 'D') {
        const dir = parentOf(c.rel);
        await writer.addMarker(`${dir ? `${dir}/` : ''}.wh.${path.posix.basename(c.rel)}`);
        continue;
      }
      const st = c.stat!;
      if (st.isDirectory()) {
        if (written.has(c.rel)) continue;
        written.add(c.rel);
      }
      await writer.add(st.isDirectory() ? `${c.rel}/` : c.rel, path.join(upper, c.rel), st, xattrs.get(c.rel));
      if (c.opaque) await writer.addMarker(`${c.rel}/.wh..wh..opq`);
    }
  }, ctx);
}

/** The container's merged tree as one tar (no whiteouts; volumes and bind mounts are not in it). */
export function exportTar(ctx: Ctx, active: readonly Mount[], scratch: string): AsyncIterable<Buffer> {
  return produce(
    (writer) =>
      withTree(mergedMounts(active), scratch, async (root) => {
        const xattrs = await dumpXattrs(root, ctx.signal);
        const visit = async (rel: string): Promise<void> => {
          const names = (await fs.promises.readdir(path.join(root, rel))).sort();
          for (const name of names) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            const child = rel ? `${rel}/${name}` : name;
            const abs = path.join(root, child);
            const st = await fs.promises.lstat(abs);
            await writer.add(st.isDirectory() ? `${child}/` : child, abs, st, xattrs.get(child));
            if (st.isDirectory()) await visit(child);
          }
        };
        await visit('');
      }),
    ctx,
  );
}

interface Collected {
  readonly changes: RawChange[];
  readonly upper: string;
  readonly xattrs: XattrMap;
}

/**
 * The filtered, parent-completed, sorted changes. For a layer tar the
 * caller reads `upper` while the lower view is no longer needed, so only
 * the walk holds it.
 */
async function collect(ctx: Ctx, trees: ChangeTrees, options: ChangeOptions): Promise<Collected> {
  const tree = upperOf(trees.active);
  const xattrs = await dumpXattrs(tree.upper, ctx.signal);
  const walk = (lower: string | undefined) => walkChanges({ mode: tree.mode, upper: tree.upper, lower, xattrs, signal: ctx.signal });
  const raw = trees.below ? await withTree(trees.below, options.scratch, walk) : await walk(undefined);
  return { changes: await complete(raw, tree.upper, options.mountpoints), upper: tree.upper, xattrs };
}

async function complete(raw: RawChange[], upper: string, mountpoints: readonly string[]): Promise<RawChange[]> {
  const points = new Set(mountpoints.map((m) => path.posix.normalize(m).replace(/^\/+|\/+$/g, '')).filter(Boolean));
  const holders = new Set<string>();
  for (const p of points) for (let d = parentOf(p); d; d = parentOf(d)) holders.add(d);
  const byPath = new Map<string, RawChange>();
  for (const c of raw) {
    if (c.kind === 'A' && points.has(c.rel)) continue;
    byPath.set(c.rel, c);
  }
  // A directory added only to hold mount points is not a change either.
  for (const rel of [...byPath.keys()].sort().reverse()) {
    const c = byPath.get(rel)!;
    if (c.kind !== 'A' || !holders.has(rel)) continue;
    const prefix = `${rel}/`;
    if (![...byPath.keys()].some((k) => k.startsWith(prefix))) byPath.delete(rel);
  }
  for (const rel of [...byPath.keys()]) {
    for (let d = parentOf(rel); d && !byPath.has(d); d = parentOf(d)) {
      byPath.set(d, { kind: 'C', rel: d, stat: await fs.promises.lstat(path.join(upper, d)) });
    }
  }
  return [...byPath.values()].sort((a, b) => comparePaths(a.rel, b.rel));
}

/** Component by component, so "/a/b" sorts before "/a-b" and parents come first. */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function typeOf(st: fs.Stats): ChangeFileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** Runs `fill` against a TarWriter and yields the tar's bytes; an error of `fill` ends the iteration with it. */
async function* produce(fill: (writer: TarWriter) => Promise<void>, ctx: Ctx): AsyncGenerator<Buffer> {
  const writer = new TarWriter();
  let failure: unknown;
  const filling = fill(writer).then(
    () => writer.finalize(),
    (e: unknown) => {
      failure = e;
      writer.pack.destroy(e instanceof Error ? e : new Error(String(e)));
    },
  );
  const onAbort = () => writer.pack.destroy(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('cancelled'));
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of writer.pack as AsyncIterable<Buffer>) yield chunk;
  } catch (e) {
    throw failure ?? e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    // A consumer that stops early destroys the pack, which fails the writes still under way.
    if (!failure) writer.pack.destroy();
    void filling;
  }
  if (failure) throw failure instanceof Error ? failure : new Error('the tar could not be written');
}
