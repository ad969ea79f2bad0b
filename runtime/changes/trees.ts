/**
 * From snapshot mounts to directories the walker can read, without asking
 * the snapshotter for its layout: an overlay mount names its upper and
 * lower dirs, a bind its one tree. A tree that is several layers (the
 * lower side of an overlay container, or a container's merged view for
 * export) is mounted read-only under a scratch dir for the time of a call.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../errdefs/errdefs';
import { isOverlay, optionValue, type Mount } from '../mount/mount';
import { mount, unmount } from '../mount/mounter';

export interface UpperTree {
  /** overlay: `upper` holds only the changes; full: `upper` is the whole tree. */
  readonly mode: 'overlay' | 'full';
  readonly upper: string;
  /** overlay: the lower dirs, nearest first. */
  readonly lowers: readonly string[];
}

/** Where an active snapshot's own files are. */
export function upperOf(active: readonly Mount[]): UpperTree {
  const m = active.length === 1 ? active[0] : undefined;
  if (m && isOverlay(m)) {
    const upper = optionValue(m, 'upperdir');
    const lowers = optionValue(m, 'lowerdir');
    if (upper && lowers) return { mode: 'overlay', upper, lowers: lowers.split(':') };
  }
  if (m?.type === 'bind') return { mode: 'full', upper: m.source, lowers: [] };
  throw invalidArgument(`cannot read changes of a snapshot mounted as ${JSON.stringify(active)}`);
}

/** The merged, read-only tree of a container's active snapshot, as export reads it. */
export function mergedMounts(active: readonly Mount[]): Mount[] {
  const tree = upperOf(active);
  if (tree.mode === 'full') return [{ type: 'bind', source: tree.upper, options: ['rbind', 'ro'] }];
  // The upper dir becomes the top lower layer: overlay reads its whiteouts and opaque dirs as it reads any layer's.
  // Mounted as the snapshot's own are (the kernel's overlay, or fuse-overlayfs where the kernel's cannot be used).
  const [m] = active;
  return [{ type: m.type, source: m.source, options: ['index=off', `lowerdir=${[tree.upper, ...tree.lowers].join(':')}`] }];
}

/** Runs `fn` on the directory holding the tree `mounts` describe: a bind's source as it is, anything else mounted under `scratch`. */
export async function withTree<T>(mounts: readonly Mount[], scratch: string, fn: (dir: string) => Promise<T>): Promise<T> {
  if (mounts.length === 1 && mounts[0].type === 'bind') return fn(mounts[0].source);
  await fs.promises.mkdir(scratch, { recursive: true, mode: 0o700 });
  const target = path.join(scratch, randomBytes(8).toString('hex'));
  await fs.promises.mkdir(target, { mode: 0o700 });
  try {
    await mount(mounts, target);
    try {
      return await fn(target);
    } finally {
      await unmount(target);
    }
  } finally {
    await fs.promises.rmdir(target).catch(() => undefined);
  }
}
