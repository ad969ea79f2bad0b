/** The A/C/D computation of a layer against the tree below it (layers.ts defines the terms). */
import type { LayerChange, LayerEntry, LowerTree } from './layers';

/** The parent directory of an absolute path ("/" for "/a"). */
export function parentPath(p: string): string {
  const at = p.lastIndexOf('/');
  return at <= 0 ? '/' : p.slice(0, at);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * What a layer added, changed and deleted, sorted by path. Paths under a
 * deleted directory are not listed (the directory's D says it).
 */
export async function layerChanges(entries: readonly LayerEntry[], below: LowerTree): Promise<LayerChange[]> {
  const own = new Map<string, LayerEntry>();
  for (const e of entries) if (e.path !== '/') own.set(e.path, e);
  const out = new Map<string, LayerChange>();
  for (const e of own.values()) {
    if (e.kind === 'whiteout') {
      out.set(e.path, { kind: 'D', path: e.path, size: 0 });
      continue;
    }
    out.set(e.path, { kind: (await below.exists(e.path)) ? 'C' : 'A', path: e.path, type: e.kind, size: e.size });
  }
  for (const e of own.values()) {
    if (!e.opaque) continue;
    for (const name of await below.children(e.path)) {
      const p = joinPath(e.path, name);
      if (!own.has(p)) out.set(p, { kind: 'D', path: p, size: 0 });
    }
  }
  return [...out.values()].sort((a, b) => comparePaths(a.path, b.path));
}

/** Bytes of the files a layer holds, as Docker's history SIZE column (whiteouts and directories count 0). */
export function layerSize(entries: readonly LayerEntry[]): number {
  let size = 0;
  for (const e of entries) if ((e.kind === 'file' || e.kind === 'symlink') && !e.linked) size += e.size;
  return size;
}

/** Path order with "/" before any other character, so a directory's children follow it directly. */
export function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/**
 * The merged tree of layers given as entries, bottom first (what lies
 * under a layer when no snapshot of it is at hand): per layer, its
 * whiteouts and opaque directories remove from the tree below, then its
 * entries are added.
 */
export function mergedTree(layers: readonly (readonly LayerEntry[])[]): LowerTree {
  const tree = new Map<string, LayerEntry['kind']>();
  const removeUnder = (dir: string, self: boolean) => {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    for (const p of [...tree.keys()]) if ((self && p === dir) || p.startsWith(prefix)) tree.delete(p);
  };
  for (const entries of layers) {
    for (const e of entries) {
      if (e.kind === 'whiteout') removeUnder(e.path, true);
      else if (e.opaque) removeUnder(e.path, false);
    }
    for (const e of entries) {
      if (e.kind === 'whiteout') continue;
      // A non-directory replacing a directory takes its contents with it.
      if (e.kind !== 'directory' && tree.get(e.path) === 'directory') removeUnder(e.path, false);
      tree.set(e.path, e.kind);
    }
  }
  return {
    exists: async (p) => tree.has(p),
    children: async (dir) => {
      if (dir !== '/' && tree.get(dir) !== 'directory') return [];
      const prefix = dir === '/' ? '/' : `${dir}/`;
      const names: string[] = [];
      for (const p of tree.keys())
        if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/') && p !== dir) names.push(p.slice(prefix.length));
      return names.sort();
    },
  };
}
