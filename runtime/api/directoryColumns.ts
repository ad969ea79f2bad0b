/**
 * A directory listing as columns (RawDirectoryColumns in files.proto), both
 * ways: the daemon hands over the columns it listed (runtime/files/listing.ts),
 * a client unpacks the same FileInfo messages a listing of `entries` would
 * have given, or only names and types. One packed array per field is a few
 * encoder calls instead of a message and two Timestamps per entry, which
 * cost more than the lstats themselves for a large directory
 * (docs/performance.md, the files benchmark).
 */
import type { DirectoryListing, FileType } from '../files/index';
import { FileType as WireFileType, type FileInfo as WireFileInfo, type RawDirectoryColumns } from './gen/gantry/v1/files';

const TYPES: Record<FileType, WireFileType> = {
  file: WireFileType.FILE_TYPE_FILE,
  directory: WireFileType.FILE_TYPE_DIRECTORY,
  symlink: WireFileType.FILE_TYPE_SYMLINK,
  other: WireFileType.FILE_TYPE_OTHER,
};

export function toColumns(l: DirectoryListing): RawDirectoryColumns {
  const n = l.names.length;
  const types = new Array<WireFileType>(n);
  for (let i = 0; i < n; i++) types[i] = TYPES[l.types[i]];
  const s = l.stats;
  return {
    names: l.names.join('\0'),
    types,
    // The listing's own arrays: nothing copied per entry.
    sizes: s?.sizes ?? [],
    modes: s?.modes ?? [],
    uids: s?.uids ?? [],
    gids: s?.gids ?? [],
    modifiedMs: s?.mtimeMs ?? [],
    changedMs: s?.ctimeMs ?? [],
    linkIndexes: l.links.map((k) => k.index),
    linkTargets: l.links.map((k) => k.target),
    linkTargetTypes: l.links.map((k) => (k.targetType ? TYPES[k.targetType] : WireFileType.FILE_TYPE_UNSPECIFIED)),
  };
}

/** An entry of a names-and-types listing. */
export interface DirectoryEntry {
  readonly name: string;
  readonly type: WireFileType;
  /** A symlink's: the type of what it leads to (UNSPECIFIED: nowhere). */
  readonly targetType: WireFileType;
  /** A symlink's target as written. */
  readonly linkTarget?: string;
}

function namesOf(c: RawDirectoryColumns): string[] {
  const names = c.names === '' && c.types.length === 0 ? [] : c.names.split('\0');
  if (c.types.length !== names.length)
    throw new Error(`a directory listing's columns disagree (${names.length} names, ${c.types.length} types)`);
  return names;
}

function checkLinks(c: RawDirectoryColumns, n: number): void {
  for (const at of c.linkIndexes) if (at >= n) throw new Error(`a directory listing names link ${at} of ${n} entries`);
}

/** Names and types (of a names-and-types listing, or of a full one). */
export function entriesFromColumns(c: RawDirectoryColumns): DirectoryEntry[] {
  const names = namesOf(c);
  const n = names.length;
  checkLinks(c, n);
  const out = new Array<DirectoryEntry>(n);
  for (let i = 0; i < n; i++) out[i] = { name: names[i], type: c.types[i], targetType: WireFileType.FILE_TYPE_UNSPECIFIED };
  c.linkIndexes.forEach((at, k) => {
    out[at] = { ...out[at], targetType: c.linkTargetTypes[k] ?? WireFileType.FILE_TYPE_UNSPECIFIED, linkTarget: c.linkTargets[k] ?? '' };
  });
  return out;
}

export function fromColumns(c: RawDirectoryColumns): WireFileInfo[] {
  const names = namesOf(c);
  const n = names.length;
  for (const column of [c.sizes, c.modes, c.uids, c.gids, c.modifiedMs, c.changedMs]) {
    if (column.length !== n) throw new Error(`a directory listing's columns disagree (${n} names, a column of ${column.length})`);
  }
  checkLinks(c, n);
  const out = new Array<WireFileInfo>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      name: names[i],
      type: c.types[i],
      linkTarget: '',
      size: c.sizes[i],
      mode: c.modes[i],
      uid: c.uids[i],
      gid: c.gids[i],
      modifiedAt: new Date(c.modifiedMs[i]),
      changedAt: new Date(c.changedMs[i]),
      targetType: WireFileType.FILE_TYPE_UNSPECIFIED,
    };
  }
  c.linkIndexes.forEach((at, k) => {
    const e = out[at];
    e.linkTarget = c.linkTargets[k] ?? '';
    e.targetType = c.linkTargetTypes[k] ?? WireFileType.FILE_TYPE_UNSPECIFIED;
  });
  return out;
}
