// Compression bombs against the free-space reserve, in process: a layer of a
// few MB of gzip that expands to gigabytes (one file, or thousands) or to a
// hundred thousand empty files is applied to a small tmpfs mounted here (never
// the machine's disk), with a reserve. Each must stop with ResourceExhausted
// naming the layer, the reserve and the filesystem — before the disk is full
// (never ENOSPC) — with the applier's RSS bounded.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { TarApplier } from '../../../runtime/unpack/applier';
import { DiskReserve, type FreeSpaceSpec } from '../../../runtime/util/diskspace';
import { encodeEntry, MEDIA, zeroBomb } from '../../helpers/tarBuilder';
import { bindMount, ctx, mountTmpfs, readableOf } from '../../helpers/unpackFixtures';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const MiB = 1024 * 1024;
const LAYER = `sha256:${'b0'.repeat(32)}`;

interface Outcome {
  error: unknown;
  /** Growth of the RSS while applying, sampled every 5 ms. */
  rssGrowth: number;
}

async function applyMeasured(target: string, layer: Readable, diffId: string, spec: FreeSpaceSpec): Promise<Outcome> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const error = await new TarApplier({ reserve: new DiskReserve(spec) })
    .apply(ctx, bindMount(target), layer, { mediaType: MEDIA.gzip, diffId, digest: LAYER })
    .then(
      () => undefined,
      (e: unknown) => e,
    )
    .finally(() => clearInterval(sampler));
  layer.destroy();
  return { error, rssGrowth: peak - before };
}

function freeBytes(dir: string): number {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
}

describe('unpack: compression bombs stop at the free-space reserve', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let base: string;

  before(async () => {
    base = await makeTempDir('gunpack-bomb', cleanup);
  });

  /** A fresh 64 MiB tmpfs with an empty target directory in it. */
  async function smallDisk(inodes?: number): Promise<{ mnt: string; target: string }> {
    const mnt = fs.mkdtempSync(path.join(base, 'mnt-'));
    await mountTmpfs(mnt, '64m', cleanup, inodes);
    const target = path.join(mnt, 'target');
    fs.mkdirSync(target);
    return { mnt, target };
  }

  it('one 4 GiB file of zeros (4 MB of gzip) is refused from its header, before anything is written', async () => {
    const { mnt, target } = await smallDisk();
    const bomb = zeroBomb(1, 4096, false);
    assert.ok(bomb.gz.length < 8 * MiB, `the bomb is ${bomb.gz.length} bytes`);
    const { error, rssGrowth } = await applyMeasured(target, readableOf(bomb.gz), bomb.diffId, { bytes: 16 * MiB, percent: 0 });
    assert.ok(isGantryError(error), `not a GantryError: ${String(error)}`);
    assert.equal(error.kind, 'ResourceExhausted', error.message);
    assert.equal(error.message, `unpacking layer ${LAYER} would leave less than 16 MiB free on ${mnt}`);
    assert.deepEqual(fs.readdirSync(target), []);
    assert.ok(rssGrowth < 128 * MiB, `RSS grew by ${Math.round(rssGrowth / MiB)} MiB`);
  });

  it('4096 files of 1 MiB of zeros stop when the reserve is reached, never filling the disk', async () => {
    const { mnt, target } = await smallDisk();
    const bomb = zeroBomb(4096, 1, false);
    const { error, rssGrowth } = await applyMeasured(target, readableOf(bomb.gz), bomb.diffId, { bytes: 16 * MiB, percent: 0 });
    assert.ok(isGantryError(error), `not a GantryError: ${String(error)}`);
    assert.equal(error.kind, 'ResourceExhausted', error.message);
    assert.equal(error.message, `unpacking layer ${LAYER} would leave less than 16 MiB free on ${mnt}`);
    const written = fs.readdirSync(target).length;
    assert.ok(written > 16 && written < 64, `${written} files written`);
    // Checked every 4 MiB of the stream, with at most 8 files being written at once: a bounded overshoot.
    assert.ok(freeBytes(mnt) >= 2 * MiB, `only ${freeBytes(mnt)} bytes left free`);
    assert.ok(rssGrowth < 128 * MiB, `RSS grew by ${Math.round(rssGrowth / MiB)} MiB`);
  });

  it('100,000 empty files stop when the inode reserve is reached', async () => {
    const { mnt, target } = await smallDisk(20_000);
    const entries = function* () {
      for (let i = 0; i < 100_000; i++) yield* encodeEntry({ name: `e${i}` });
      yield Buffer.alloc(1024);
    };
    const gzipped = Readable.from(entries()).pipe(zlib.createGzip({ level: 1 }));
    const { error } = await applyMeasured(target, gzipped, `sha256:${'0'.repeat(64)}`, { bytes: 0, percent: 25 });
    assert.ok(isGantryError(error), `not a GantryError: ${String(error)}`);
    assert.equal(error.kind, 'ResourceExhausted', error.message);
    assert.equal(error.message, `unpacking layer ${LAYER} would leave fewer than 5000 free inodes on ${mnt}`);
    assert.ok(fs.statfsSync(mnt).ffree >= 3000, `only ${fs.statfsSync(mnt).ffree} inodes left free`);
  });
});
