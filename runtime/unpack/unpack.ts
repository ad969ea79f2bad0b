/**
 * Unpack: applying a layer (a possibly compressed tar stream) to a snapshot.
 *
 * The applier receives the *mounts* of an active snapshot and writes into the
 * directories behind them without mounting anything: for an overlay mount, the
 * upperdir (lowerdirs are consulted, never written); for a bind mount, its
 * source. Whiteouts follow the mount: in an overlay upperdir `.wh.NAME`
 * becomes a char device 0/0 and `.wh..wh..opq` sets `trusted.overlay.opaque=y`;
 * in a plain directory (native snapshotter, or a first layer) the whiteout
 * deletes NAME, and an opaque marker empties the directory.
 *
 * Safety (the point of this module): every entry path is resolved inside the
 * target directory. Entries with `..` components or absolute paths, entries
 * whose parent path passes through a symlink (planted by this layer or a lower
 * one), hardlinks to targets outside the tree or through symlinks, and device
 * nodes when not running as root are refused with InvalidArgument naming the
 * entry. Nothing outside the target directory is created, changed or removed.
 *
 * Integrity: the uncompressed stream is hashed as it is applied; a digest
 * that differs from the expected DiffID fails with DataLoss (the caller then
 * removes the active snapshot, so nothing of the layer remains visible).
 */
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';
import type { Mount } from '../mount/mount';

export interface ApplyOptions {
  /** Layer media type: decides decompression (gzip, zstd, none). */
  readonly mediaType: string;
  /** The DiffID from the image config (sha256 of the uncompressed tar). */
  readonly diffId: string;
  /** The layer blob's digest, for messages (default: the DiffID). */
  readonly digest?: string;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar, equal to options.diffId on success. */
  readonly diffId: string;
  /** Bytes of the uncompressed tar. */
  readonly uncompressedSize: number;
  readonly entries: number;
}

export interface Applier {
  apply(ctx: Ctx, mounts: readonly Mount[], layer: Readable, options: ApplyOptions): Promise<ApplyResult>;
}
