/**
 * Snapshots: filesystem trees stacked from layers (modelled on containerd's
 * core/snapshots/snapshotter.go).
 *
 * Terms
 * - A snapshot is *active* (writable, made by `prepare`), a *view* (read-only,
 *   made by `view`) or *committed* (immutable, made by `commit` from an
 *   active snapshot). All kinds share one key space: `key` names active and
 *   view snapshots, `name` names committed ones.
 * - `parent` is always a committed snapshot; a child sees its parent's tree
 *   with its own changes on top.
 *
 * Rules
 * - `prepare`/`view` with a key that exists fail with AlreadyExists; with a
 *   parent that does not exist (or is not committed) with NotFound/InvalidArgument.
 * - `commit` turns the active snapshot `key` into the committed `name`; the
 *   key is gone afterwards. Committing to a name that exists fails with
 *   AlreadyExists (the caller — an unpacker racing another — treats that as
 *   done and removes its own active snapshot).
 * - An active snapshot never becomes visible under a committed name until
 *   `commit` returns; a crash before that leaves it active, and active
 *   snapshots left by a crash are removed by `cleanup`.
 * - `remove` of a snapshot that has children fails with FailedPrecondition.
 * - Metadata is written atomically; after a crash the snapshotter is in the
 *   state before or after each call, never between.
 *
 * Example: unpacking an image with layers L1, L2
 *   prepare('extract-1', '')          → mounts; apply L1; commit(chainID(L1), 'extract-1')
 *   prepare('extract-2', chainID(L1)) → mounts; apply L2; commit(chainID(L1,L2), 'extract-2')
 * and running a container from it
 *   prepare('ctr-<id>', chainID(L1,L2)) → mounts for its rootfs
 *
 * Layer snapshots are named by ChainID (image-spec config.md), so layers
 * shared between images are unpacked once.
 */
import type { Ctx } from '../context';
import type { Mount } from '../mount/mount';

export type Kind = 'active' | 'view' | 'committed';

export interface Info {
  readonly kind: Kind;
  /** The key (active/view) or name (committed). */
  readonly name: string;
  /** Name of the committed parent, '' for none. */
  readonly parent: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Usage {
  /** Bytes used by this snapshot's own changes (not its parents). */
  readonly size: number;
  readonly inodes: number;
}

export interface SnapshotOptions {
  readonly labels?: Record<string, string>;
}

export interface Snapshotter {
  /** The implementation's name: "overlayfs" or "native". */
  readonly name: string;
  /** NotFound when absent. */
  stat(ctx: Ctx, key: string): Promise<Info>;
  /** Replaces the labels of a snapshot. */
  setLabels(ctx: Ctx, key: string, labels: Record<string, string>): Promise<Info>;
  /** Disk used by the snapshot's own layer. Cost grows with its file count. */
  usage(ctx: Ctx, key: string): Promise<Usage>;
  /** Mounts of an active or view snapshot. */
  mounts(ctx: Ctx, key: string): Promise<Mount[]>;
  prepare(ctx: Ctx, key: string, parent: string, options?: SnapshotOptions): Promise<Mount[]>;
  view(ctx: Ctx, key: string, parent: string, options?: SnapshotOptions): Promise<Mount[]>;
  commit(ctx: Ctx, name: string, key: string, options?: SnapshotOptions): Promise<void>;
  /** FailedPrecondition while children exist; NotFound when absent. */
  remove(ctx: Ctx, key: string): Promise<void>;
  walk(ctx: Ctx, fn: (info: Info) => void | Promise<void>): Promise<void>;
  /** Removes active snapshots and directories a crash left behind. Called at start-up. */
  cleanup(ctx: Ctx): Promise<void>;
}
