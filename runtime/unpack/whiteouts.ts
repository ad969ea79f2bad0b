/**
 * OCI whiteouts (image-spec layer.md "Whiteouts"): `.wh.NAME` deletes NAME of
 * the layers below, `.wh..wh..opq` hides everything the layers below have in
 * its directory. Both apply to lower content only: what this same layer puts
 * in place survives, wherever the marker appears in the tar.
 *
 * In an overlay upperdir they become what overlayfs reads (a char 0/0 device,
 * the trusted.overlay.opaque=y xattr); in a plain directory they delete.
 */
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../errdefs/errdefs';
import { quoteName } from './paths';

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** The opaque-directory xattr overlayfs reads; with the `userxattr` mount option (rootless) the user.* one. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
export const OVERLAY_USER_OPAQUE_XATTR = 'user.overlay.opaque';

export type Whiteout =
  /** The entry is not a whiteout. */
  | { readonly kind: 'none' }
  /** `.wh..wh..opq`: the directory is opaque. */
  | { readonly kind: 'opaque' }
  /** Another `.wh..wh.` name (AUFS metadata such as `.wh..wh.plnk`): ignored, as Docker does. */
  | { readonly kind: 'meta' }
  /** `.wh.NAME`: NAME is deleted. */
  | { readonly kind: 'delete'; readonly name: string };

/** What an entry's base name means; refuses whiteouts that name nothing or escape (`.wh..`). */
export function classifyWhiteout(base: string, entry: string): Whiteout {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === WHITEOUT_OPAQUE) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') {
    throw invalidArgument(`entry ${quoteName(entry)}: whiteout names no file in its directory`);
  }
  return { kind: 'delete', name };
}

/**
 * Empties `relDir` (absolute `absDir`) of everything that is not this
 * layer's: `keep(rel)` tells which paths the layer created (entries and their
 * parent directories). Kept directories are walked too — the lower content
 * merged into them is hidden as well. Never follows symlinks (readdir +
 * rm, which unlinks a symlink rather than its target).
 */
export async function emptyOpaqueDir(
  absDir: string,
  relDir: string,
  keep: (rel: string) => boolean,
  onRemove: (rel: string, wasDir: boolean) => void,
): Promise<void> {
  let children: Dirent[];
  try {
    children = await fs.promises.readdir(absDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const child of children) {
    const rel = relDir === '' ? child.name : `${relDir}/${child.name}`;
    const abs = path.join(absDir, child.name);
    if (keep(rel)) {
      if (child.isDirectory()) await emptyOpaqueDir(abs, rel, keep, onRemove);
      continue;
    }
    await fs.promises.rm(abs, { recursive: true, force: true });
    onRemove(rel, child.isDirectory());
  }
}
