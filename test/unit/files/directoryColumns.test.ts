// A listing packed into columns (RawDirectoryColumns) unpacks into the very
// FileInfo messages the per-entry form gives, links included.
import * as assert from 'node:assert/strict';
import { entriesFromColumns, fromColumns, toColumns } from '../../../runtime/api/directoryColumns';
import { FileInfo as WireFileInfo, FileType, RawDirectoryColumns } from '../../../runtime/api/gen/gantry/v1/files';
import { toWireFileInfo } from '../../../runtime/api/services/files';
import type { DirectoryListing, FileInfo } from '../../../runtime/files/index';

const entries: FileInfo[] = [
  { name: 'a.txt', type: 'file', size: 12, mode: 0o644, uid: 1000, gid: 1001, mtimeMs: 1_700_000_000_123.5, ctimeMs: 1_700_000_001_000 },
  { name: 'dir', type: 'directory', size: 4096, mode: 0o2755, uid: 0, gid: 0, mtimeMs: 1, ctimeMs: 2 },
  {
    name: 'to-usr',
    type: 'symlink',
    linkTarget: '/usr/bin',
    targetType: 'directory',
    size: 8,
    mode: 0o777,
    uid: 0,
    gid: 0,
    mtimeMs: 3,
    ctimeMs: 4,
  },
  { name: 'dangling', type: 'symlink', linkTarget: 'nowhere', size: 7, mode: 0o777, uid: 0, gid: 0, mtimeMs: 5, ctimeMs: 6 },
  { name: 'ünï cödé', type: 'other', size: 2 ** 40 + 1, mode: 0o600, uid: 65534, gid: 65534, mtimeMs: 7, ctimeMs: 8 },
];

/** The columns a full listing of `entries` holds (as runtime/files/listing.ts builds them). */
function listingOf(entries: FileInfo[]): DirectoryListing {
  return {
    names: entries.map((e) => e.name),
    types: entries.map((e) => e.type),
    stats: {
      sizes: entries.map((e) => e.size),
      modes: entries.map((e) => e.mode),
      uids: entries.map((e) => e.uid),
      gids: entries.map((e) => e.gid),
      mtimeMs: entries.map((e) => e.mtimeMs),
      ctimeMs: entries.map((e) => e.ctimeMs),
    },
    links: entries.flatMap((e, index) =>
      e.type === 'symlink' ? [{ index, target: e.linkTarget ?? '', ...(e.targetType ? { targetType: e.targetType } : {}) }] : [],
    ),
  };
}

describe('directory listings as columns', () => {
  it('round-trips through the wire into the same FileInfos as the per-entry form', () => {
    const wire = RawDirectoryColumns.decode(RawDirectoryColumns.encode(toColumns(listingOf(entries))).finish());
    const perEntry = entries.map((e) => WireFileInfo.decode(WireFileInfo.encode(toWireFileInfo(e)).finish()));
    assert.deepEqual(fromColumns(wire), perEntry);
  });

  it('an empty directory is no entries; columns that disagree are refused', () => {
    assert.deepEqual(fromColumns(toColumns(listingOf([]))), []);
    const broken = toColumns(listingOf(entries));
    broken.sizes.pop();
    assert.throws(() => fromColumns(broken), /columns disagree/);
  });

  it('a names-and-types listing (no stat columns) unpacks into names, types, links as written and where they lead', () => {
    const { stats, ...typesOnly } = listingOf(entries);
    void stats;
    const wire = RawDirectoryColumns.decode(RawDirectoryColumns.encode(toColumns(typesOnly)).finish());
    assert.deepEqual(wire.sizes, []);
    assert.deepEqual(entriesFromColumns(wire), [
      { name: 'a.txt', type: FileType.FILE_TYPE_FILE, targetType: FileType.FILE_TYPE_UNSPECIFIED },
      { name: 'dir', type: FileType.FILE_TYPE_DIRECTORY, targetType: FileType.FILE_TYPE_UNSPECIFIED },
      { name: 'to-usr', type: FileType.FILE_TYPE_SYMLINK, targetType: FileType.FILE_TYPE_DIRECTORY, linkTarget: '/usr/bin' },
      { name: 'dangling', type: FileType.FILE_TYPE_SYMLINK, targetType: FileType.FILE_TYPE_UNSPECIFIED, linkTarget: 'nowhere' },
      { name: 'ünï cödé', type: FileType.FILE_TYPE_OTHER, targetType: FileType.FILE_TYPE_UNSPECIFIED },
    ]);
    // The same from a full listing; a full decode of a names-and-types one is refused.
    assert.deepEqual(entriesFromColumns(toColumns(listingOf(entries))), entriesFromColumns(wire));
    assert.throws(() => fromColumns(wire), /columns disagree/);
    assert.deepEqual(entriesFromColumns(toColumns(listingOf([]))), []);
  });
});
