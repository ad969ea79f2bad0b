/**
 * Disk usage of directory trees, as `du` counts it: allocated blocks, and
 * each inode once (hard links, which the content store and the native
 * snapshotter make, are not counted twice). The walk stays on the starting
 * directory's filesystem, so a container rootfs mounted below a snapshot
 * directory is never counted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMountInfo } from '../mount/mounter';

export interface FsUsage {
  readonly usedBytes: number;
  readonly inodesUsed: number;
}

export async function treeUsage(dirs: readonly string[]): Promise<FsUsage> {
  const seen = new Set<string>();
  let usedBytes = 0;
  const visit = async (p: string, dev: number | undefined): Promise<void> => {
    let st: fs.BigIntStats;
    try {
      st = await fs.promises.lstat(p, { bigint: true });
    } catch {
      return; // removed while we walked
    }
    if (dev !== undefined && Number(st.dev) !== dev) return;
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      usedBytes += Number(st.blocks) * 512;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await fs.promises.readdir(p);
    } catch {
      return;
    }
    for (const name of names) await visit(path.join(p, name), dev ?? Number(st.dev));
  };
  for (const dir of dirs) await visit(dir, undefined);
  return { usedBytes, inodesUsed: seen.size };
}

/** The mountpoint of the filesystem that holds `p`: the deepest mount at or above it (the CRI's `fs_id`). */
export async function mountpointOf(p: string): Promise<string> {
  const real = await fs.promises.realpath(p).catch(() => path.resolve(p));
  let best = '/';
  for (const m of await readMountInfo()) {
    const at = m.mountPoint;
    if ((real === at || real.startsWith(at.endsWith('/') ? at : `${at}/`)) && at.length > best.length) best = at;
  }
  return best;
}
