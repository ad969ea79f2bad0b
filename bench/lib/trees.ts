// What an unpack should produce, and what a tool's tree holds: regular files
// (by name), their bytes (hard links counted once) and symlinks. Every
// unpacking tool's result is checked against the layers' tar streams, so a
// tool that silently skipped unpacking cannot win.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';

export interface TreeCounts {
  files: number;
  bytes: number;
  symlinks: number;
}

/**
 * Counts of the layers' tar streams (gzip or uncompressed), summed over the
 * layers: what overlay snapshots — one dir per layer — hold in total when no
 * layer replaces or deletes another's files.
 */
export async function layerCounts(blobs: readonly { path: string; mediaType: string }[]): Promise<TreeCounts> {
  const total: TreeCounts = { files: 0, bytes: 0, symlinks: 0 };
  for (const blob of blobs) {
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const base = path.posix.basename(header.name);
      if (!base.startsWith('.wh.')) {
        if (header.type === 'file' || header.type === 'contiguous-file') {
          total.files++;
          total.bytes += header.size ?? 0;
        } else if (header.type === 'link') {
          total.files++;
        } else if (header.type === 'symlink') {
          total.symlinks++;
        }
      }
      stream.on('end', next);
      stream.resume();
    });
    const decompress = compression(blob.mediaType) === 'gzip' ? [zlib.createGunzip()] : [];
    await pipeline([fs.createReadStream(blob.path), ...decompress, extract]);
  }
  return total;
}

/** 'gzip', 'zstd' or '' (uncompressed) for a layer media type. */
export function compression(mediaType: string): 'gzip' | 'zstd' | '' {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip') || mediaType.endsWith('tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  return '';
}

/** Counts of the trees below `roots` (not following symlinks; hard links' bytes counted once per root set). */
export async function treeCounts(roots: readonly string[]): Promise<TreeCounts> {
  const total: TreeCounts = { files: 0, bytes: 0, symlinks: 0 };
  const inodes = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isSymbolicLink()) total.symlinks++;
      else if (e.isFile()) {
        total.files++;
        const st = await fs.promises.lstat(p);
        const key = `${st.dev}:${st.ino}`;
        if (!inodes.has(key)) {
          inodes.add(key);
          total.bytes += st.size;
        }
      }
    }
  };
  for (const root of roots) await walk(root);
  return total;
}

/** `dir`/ENTRY/`sub` for every entry of `dir` that has that directory (e.g. snapshots/ID/fs), sorted; [] if `dir` is missing. */
export async function subdirs(dir: string, sub: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => path.join(dir, n, sub))
    .filter((p) => fs.existsSync(p) && fs.lstatSync(p).isDirectory());
}

export const sameCounts = (a: TreeCounts, b: TreeCounts) => a.files === b.files && a.bytes === b.bytes && a.symlinks === b.symlinks;

export const fmtCounts = (c: TreeCounts) => `${c.files} files / ${c.bytes} bytes / ${c.symlinks} symlinks`;
