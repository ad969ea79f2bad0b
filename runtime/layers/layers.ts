/**
 * Layers: what each layer of an image holds and what it did to the tree
 * below it — the model behind `gantry history`, the Images view's layer
 * explorer and read-only file access to a layer. Design: docs/layers.md.
 *
 * Terms
 * - A layer's *entries* are the paths it carries itself: files,
 *   directories, links and devices, plus deletions. In a layer tar a
 *   deletion is a whiteout `.wh.NAME` and an *opaque* directory is marked by
 *   `.wh..wh..opq`; in an overlay snapshot's own directory the same are a
 *   char device 0/0 and the `trusted.overlay.opaque=y` xattr. Both sources
 *   are read into one `LayerEntry` list, so the rest does not care which.
 * - The tree *below* a layer is the merged view of the layers under it
 *   (`LowerTree`): overlay's rules applied to their own directories, or, for
 *   the native snapshotter, the parent snapshot's full copy.
 * - A layer's *changes* (A/C/D, as `docker diff`): an entry whose path
 *   exists below is C(hanged), else A(dded); a whiteout is D(eleted); an
 *   opaque directory deletes every name below it that the layer does not
 *   carry again (one D per name, a deleted directory is one entry).
 *
 * Rules
 * - Layers are immutable once committed: what is computed for a DiffID is
 *   kept for the daemon's life.
 * - Nothing here writes: the snapshot directories are read with lstat and
 *   readdir, never following a link out of the tree.
 */
export type LayerEntryKind = 'file' | 'directory' | 'symlink' | 'other' | 'whiteout';

export interface LayerEntry {
  /** Absolute path inside the image: "/etc/hosts". */
  readonly path: string;
  readonly kind: LayerEntryKind;
  /** Bytes of a regular file (the target's for a hard link), a symlink's target length; 0 otherwise. */
  readonly size: number;
  /** A further name of a file listed already (a hard link): its bytes are counted once. */
  readonly linked?: boolean;
  /** A directory whose lower contents the layer hides. */
  readonly opaque?: boolean;
}

export type ChangeKind = 'A' | 'C' | 'D';

export interface LayerChange {
  readonly kind: ChangeKind;
  readonly path: string;
  /** What the path is now; undefined for a deletion. */
  readonly type?: Exclude<LayerEntryKind, 'whiteout'>;
  readonly size: number;
}

/** The merged tree under a layer. */
export interface LowerTree {
  /** Whether `path` exists below (links not followed). */
  exists(path: string): Promise<boolean>;
  /** The names in directory `path` below; empty when it is absent or not a directory. */
  children(path: string): Promise<string[]>;
}

/** An empty tree: what lies under the bottom layer. */
export const EMPTY_TREE: LowerTree = { exists: async () => false, children: async () => [] };

export { layerChanges, layerSize } from './changes';
