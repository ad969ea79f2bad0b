/**
 * A directory listing as columns (RawDirectoryColumns in files.proto), both
 * ways: the daemon packs what it lstat'ed, a client unpacks the same
 * FileInfo messages a listing of `entries` would have given. One packed
 * array per field is a few encoder calls instead of a message and two
 * Timestamps per entry, which cost more than the lstats themselves for a
 * large directory (docs/performance.md, the files benchmark).
 */
import type { FileInfo, FileType } from '../files/index';
import { FileType as WireFileType, type FileInfo as WireFileInfo, type RawDirectoryColumns } from './gen/gantry/v1/files';

const TYPES: Record<FileType, WireFileType> = {
  file: WireFileType.FILE_TYPE_FILE,
  directory: WireFileType.FILE_TYPE_DIRECTORY,
  symlink: WireFileType.FILE_TYPE_SYMLINK,
  other: WireFileType.FILE_TYPE_OTHER,
};

export function toColumns(entries: readonly FileInfo[]): RawDirectoryColumns {
  const n = entries.length;
  const c: RawDirectoryColumns = {
    names: entries.map((e) => e.name).join('\0'),
    types: new Array<WireFileType>(n),
    sizes: new Array<number>(n),
    modes: new Array<number>(n),
    uids: new Array<number>(n),
    gids: new Array<number>(n),
    modifiedMs: new Array<number>(n),
    changedMs: new Array<number>(n),
    linkIndexes: [],
    linkTargets: [],
    linkTargetTypes: [],
  };
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    c.types[i] = TYPES[e.type];
    c.sizes[i] = e.size;
    c.modes[i] = e.mode;
    c.uids[i] = e.uid;
    c.gids[i] = e.gid;
    c.modifiedMs[i] = e.mtimeMs;
    c.changedMs[i] = e.ctimeMs;
    if (e.linkTarget !== undefined || e.targetType !== undefined) {
      c.linkIndexes.push(i);
      c.linkTargets.push(e.linkTarget ?? '');
      c.linkTargetTypes.push(e.targetType ? TYPES[e.targetType] : WireFileType.FILE_TYPE_UNSPECIFIED);
    }
  }
  return c;
}

export function fromColumns(c: RawDirectoryColumns): WireFileInfo[] {
  if (c.names === '' && c.types.length === 0) return [];
  const names = c.names.split('\0');
  const n = names.length;
  for (const column of [c.types, c.sizes, c.modes, c.uids, c.gids, c.modifiedMs, c.changedMs]) {
    if (column.length !== n) throw new Error(`a directory listing's columns disagree (${n} names, a column of ${column.length})`);
  }
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
    if (!e) throw new Error(`a directory listing names link ${at} of ${n} entries`);
    e.linkTarget = c.linkTargets[k] ?? '';
    e.targetType = c.linkTargetTypes[k] ?? WireFileType.FILE_TYPE_UNSPECIFIED;
  });
  return out;
}
