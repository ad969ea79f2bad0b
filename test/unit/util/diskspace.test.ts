import * as assert from 'node:assert/strict';
import type * as fs from 'node:fs';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { DiskReserve, formatFreeSpace, parseFreeSpace } from '../../../runtime/util/diskspace';

const MiB = 1024 * 1024;

/** A filesystem of 100 MiB in 4 KiB blocks with `free` bytes and `inodes` of 1000 free. */
function fakeStatfs(free: number, inodes = 1000): () => Promise<fs.StatsFs> {
  return async () => ({
    type: 0,
    bsize: 4096,
    blocks: (100 * MiB) / 4096,
    bfree: free / 4096,
    bavail: free / 4096,
    files: 1000,
    ffree: inodes,
  });
}

describe('util/diskspace', () => {
  it('parses sizes, percentages and 0', () => {
    assert.deepEqual(parseFreeSpace('1GiB'), { bytes: 2 ** 30, percent: 0 });
    assert.deepEqual(parseFreeSpace('512MiB'), { bytes: 512 * MiB, percent: 0 });
    assert.deepEqual(parseFreeSpace('2G'), { bytes: 2e9, percent: 0 });
    assert.deepEqual(parseFreeSpace('1073741824'), { bytes: 2 ** 30, percent: 0 });
    assert.deepEqual(parseFreeSpace('5%'), { bytes: 0, percent: 5 });
    assert.deepEqual(parseFreeSpace('0'), { bytes: 0, percent: 0 });
    assert.equal(formatFreeSpace(parseFreeSpace('0')), 'off');
    assert.equal(formatFreeSpace(parseFreeSpace('16MiB')), '16 MiB');
    for (const bad of ['', 'lots', '5 parsecs', '-1G', '100%', '1.5.5G']) {
      assert.throws(
        () => parseFreeSpace(bad),
        (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument',
        bad,
      );
    }
  });

  it('refuses what would leave less than the reserve, in bytes or inodes; 0 checks nothing', async () => {
    const reserve = new DiskReserve({ bytes: 16 * MiB, percent: 0 }, fakeStatfs(20 * MiB));
    await reserve.check('/nowhere', 4 * MiB, 'writing x');
    await assert.rejects(
      reserve.check('/nowhere', 5 * MiB, 'writing x'),
      (e: unknown) =>
        isGantryError(e) && e.kind === 'ResourceExhausted' && e.message === 'writing x would leave less than 16 MiB free on /nowhere',
    );
    const percent = new DiskReserve({ bytes: 0, percent: 25 }, fakeStatfs(20 * MiB));
    await assert.rejects(percent.check('/nowhere', 0, 'writing x'), /less than 25% \(25 MiB\) free/);
    const inodes = new DiskReserve({ bytes: 16 * MiB, percent: 0 }, fakeStatfs(50 * MiB, 9));
    await assert.rejects(inodes.check('/nowhere', 0, 'writing x'), /fewer than 10 free inodes/);
    await new DiskReserve({ bytes: 0, percent: 0 }, fakeStatfs(0, 0)).check('/nowhere', 10 * MiB, 'writing x');
  });
});
