/**
 * A directory listing as columns: entry i is names[i], types[i] and, in a
 * full listing, stats.sizes[i]… Built straight from what readdir and lstat
 * return, with no object per entry, and handed to the API as it is
 * (runtime/api/directoryColumns.ts): per-entry objects cost more than the
 * lstats of a large directory (docs/performance.md, the files benchmark).
 */
import type { FileInfo, FileType } from './rootedFs';

/** What a listing holds beyond names and types. */
export type ListingDetail =
  /** Every entry lstat'ed: size, mode, owner, times (`ls -la`). */
  | 'full'
  /**
   * Names and types only, from readdir's own entry types: no lstat but for
   * the links (whose targets are resolved as in a full listing) and for an
   * entry whose filesystem gives no type. What an editor's file tree needs
   * (VS Code's readDirectory is `[name, type][]`).
   */
  | 'types';

export interface StatColumns {
  readonly sizes: number[];
  /** Permission bits (and set-id/sticky), no type bits. */
  readonly modes: number[];
  readonly uids: number[];
  readonly gids: number[];
  readonly mtimeMs: number[];
  readonly ctimeMs: number[];
}

export interface ListedLink {
  /** Its index among the entries. */
  readonly index: number;
  /** What it points at, as written ('' when it could not be read). */
  readonly target: string;
  /** The type of what it leads to inside the root (undefined: nowhere). */
  readonly targetType?: FileType;
}

export interface DirectoryListing {
  readonly names: string[];
  readonly types: FileType[];
  /** A full listing's; absent in a 'types' one. */
  readonly stats?: StatColumns;
  /** The symlinks among the entries. */
  readonly links: ListedLink[];
}

export function emptyStatColumns(): StatColumns {
  return { sizes: [], modes: [], uids: [], gids: [], mtimeMs: [], ctimeMs: [] };
}

/** The listing as one FileInfo per entry (callers that want objects; a 'types' listing has zero sizes, modes and times). */
export function listingEntries(l: DirectoryListing): FileInfo[] {
  const out = l.names.map<FileInfo>((name, i) => ({
    name,
    type: l.types[i],
    size: l.stats?.sizes[i] ?? 0,
    mode: l.stats?.modes[i] ?? 0,
    uid: l.stats?.uids[i] ?? 0,
    gid: l.stats?.gids[i] ?? 0,
    mtimeMs: l.stats?.mtimeMs[i] ?? 0,
    ctimeMs: l.stats?.ctimeMs[i] ?? 0,
  }));
  for (const link of l.links) {
    out[link.index] = { ...out[link.index], linkTarget: link.target, ...(link.targetType ? { targetType: link.targetType } : {}) };
  }
  return out;
}
