// A listing packed into columns (RawDirectoryColumns) unpacks into the very
// FileInfo messages the per-entry form gives, links included.
import * as assert from 'node:assert/strict';
import { fromColumns, toColumns } from '../../../runtime/api/directoryColumns';
import { FileInfo as WireFileInfo, RawDirectoryColumns } from '../../../runtime/api/gen/gantry/v1/files';
import { toWireFileInfo } from '../../../runtime/api/services/files';
import type { FileInfo } from '../../../runtime/files/index';

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

describe('directory listings as columns', () => {
  it('round-trips through the wire into the same FileInfos as the per-entry form', () => {
    const wire = RawDirectoryColumns.decode(RawDirectoryColumns.encode(toColumns(entries)).finish());
    const perEntry = entries.map((e) => WireFileInfo.decode(WireFileInfo.encode(toWireFileInfo(e)).finish()));
    assert.deepEqual(fromColumns(wire), perEntry);
  });

  it('an empty directory is no entries; columns that disagree are refused', () => {
    assert.deepEqual(fromColumns(toColumns([])), []);
    const broken = toColumns(entries);
    broken.sizes.pop();
    assert.throws(() => fromColumns(broken), /columns disagree/);
  });
});
