// A real gantryd whose data root is a 64 MiB tmpfs mounted here (never the
// machine's disk), with `--min-free-space 16MiB`, pulling images that would
// fill it from the test registry: compression bombs (one 4 GiB file; 4096
// files of 1 MiB) and a layer blob larger than the space left. Each pull
// fails with ResourceExhausted naming the reserve and the filesystem; no
// image record, no snapshot, no ingest is left behind; the daemon's memory
// stays bounded and it keeps answering; and a normal pull still works.
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon } from '../../helpers/daemon';
import { pushBusybox, pushLayers } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { MEDIA, zeroBomb } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { mountTmpfs } from '../../helpers/unpackFixtures';

const MiB = 1024 * 1024;

/** Peak resident memory of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no VmHWM for ${pid}`);
  return Number(m[1]) * 1024;
}

describe('images: a pull that would fill the disk stops at the free-space reserve', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let daemon: TestDaemon;
  let mnt: string;

  before(async () => {
    registry = await startRegistry({ cleanup });
    const dir = await makeTempDir('gdfull', cleanup);
    mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    await mountTmpfs(mnt, '64m', cleanup);
    daemon = new TestDaemon(path.join(mnt, 'root'), path.join(dir, 'state'), ['--min-free-space', '16MiB']);
    cleanup.defer(() => daemon.stop());
    await daemon.start();
  });

  async function assertNothingLeft(): Promise<void> {
    const images = await daemon.cli(['images', '--json']);
    assert.equal(images.code, 0, images.stderr);
    assert.deepEqual(JSON.parse(images.stdout), []);
    const snaps = await daemon.cli(['snapshots', 'ls', '--json']);
    assert.equal(snaps.code, 0, snaps.stderr);
    assert.deepEqual((JSON.parse(snaps.stdout) as { snapshots: unknown[] }).snapshots, []);
    // Whatever the snapshotter keeps on disk for active snapshots is gone too.
    const snapshotDirs = path.join(daemon.root, 'snapshots');
    for (const sn of fs.readdirSync(snapshotDirs)) {
      const dirs = path.join(snapshotDirs, sn, 'snapshots');
      if (fs.existsSync(dirs)) assert.deepEqual(fs.readdirSync(dirs), [], `${sn} keeps snapshot directories`);
    }
  }

  /**
   * The store holds only blobs whose bytes hash to their names; a partial
   * ingest may stay (for a resume, as after any failed download), of a refused layer only.
   */
  const refusedLayers = new Set<string>();
  function assertOnlyVerifiedBlobs(layer: string): void {
    refusedLayers.add(layer);
    const blobs = path.join(daemon.root, 'content', 'blobs', 'sha256');
    for (const hex of fs.readdirSync(blobs)) {
      assert.equal(
        createHash('sha256')
          .update(fs.readFileSync(path.join(blobs, hex)))
          .digest('hex'),
        hex,
      );
    }
    const ingests = path.join(daemon.root, 'content', 'ingest');
    for (const dir of fs.readdirSync(ingests)) {
      const meta = JSON.parse(fs.readFileSync(path.join(ingests, dir, 'meta'), 'utf8')) as { expected: string };
      assert.ok(refusedLayers.has(meta.expected), `an ingest of ${meta.expected} was left`);
    }
  }

  const bombs = [
    { title: 'one 4 GiB file of zeros', layer: () => zeroBomb(1, 4096) },
    // (Not hashed: the pull never gets to the end of the layer, where the DiffID is compared.)
    { title: '4096 files of 1 MiB of zeros', layer: () => zeroBomb(4096, 1, false) },
  ];
  for (const [i, bomb] of bombs.entries()) {
    it(`a compression bomb (${bomb.title}) fails with ResourceExhausted and leaves nothing behind`, async () => {
      const { gz, diffId } = bomb.layer();
      const image = await pushLayers(registry, `diskfull/bomb${i}:1`, [{ blob: gz, mediaType: MEDIA.gzip, diffId }]);
      const result = await daemon.cli(['pull', '-q', image.ref]);
      assert.notEqual(result.code, 0, result.stdout);
      // The layer is unpacked as it downloads: whichever writer checks first
      // after the reserve is reached reports it (usually the applier).
      assert.match(
        result.stderr,
        new RegExp(`(unpacking layer|writing blob) ${image.layerDigests[0]} would leave less than 16 MiB free on ${mnt}`),
      );
      await assertNothingLeft();
      assertOnlyVerifiedBlobs(image.layerDigests[0]);
      const st = fs.statfsSync(mnt);
      assert.ok(st.bavail * st.bsize >= 2 * MiB, `only ${st.bavail * st.bsize} bytes left free`);
      assert.ok(
        peakRss(daemon.process.child.pid!) < 512 * MiB,
        `gantryd peaked at ${Math.round(peakRss(daemon.process.child.pid!) / MiB)} MiB`,
      );
      await daemon.version();
    });
  }

  it('a layer blob larger than the space above the reserve is refused before it is downloaded', async () => {
    const blob = randomBytes(56 * MiB);
    const image = await pushLayers(registry, 'diskfull/huge:1', [{ blob, mediaType: MEDIA.gzip, diffId: `sha256:${'1'.repeat(64)}` }]);
    const result = await daemon.cli(['pull', '-q', image.ref]);
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(
      result.stderr,
      new RegExp(`writing blob ${image.layerDigests[0]} \\(56 MiB more\\) would leave less than 16 MiB free on ${mnt}`),
    );
    await assertNothingLeft();
    assert.ok(!fs.existsSync(path.join(daemon.root, 'content', 'blobs', ...image.layerDigests[0].split(':'))));
    assertOnlyVerifiedBlobs(image.layerDigests[0]);
    await daemon.version();
  });

  it('after the refusals, a normal pull works', async () => {
    const image = await pushBusybox(registry, 'diskfull/busybox:1');
    const result = await daemon.cli(['pull', '-q', image.ref]);
    assert.equal(result.code, 0, result.stderr);
    const images = JSON.parse((await daemon.cli(['images', '--json'])).stdout) as { name: string; chainId: string }[];
    assert.deepEqual(
      images.map((i) => i.name),
      [image.ref],
    );
    assert.ok(images[0].chainId, 'unpacked');
  });
});
