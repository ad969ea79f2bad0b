// Pull = fetch ∥ unpack, end to end: images no one here wrote (umoci) pushed
// to the real registry, pulled by a real gantryd into real snapshots, and the
// mounted root filesystem compared with what `umoci unpack` makes of them.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { startFaultProxy } from '../../helpers/faultProxy';
import { pushBusybox } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { buildTar, type TarEntry } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import {
  addRawLayers,
  buildUmociImage,
  diffListings,
  listTree,
  mountLowers,
  umociUnpack,
  umount,
  type ListOptions,
} from '../../helpers/unpackFixtures';
import { waitFor } from '../../helpers/waitFor';

interface SnapshotRow {
  name: string;
  parent: string;
  kind: string;
}

interface SnapshotRecord {
  id: number;
  name: string;
  parent: string;
}

const EXTRA_LAYERS: TarEntry[][] = [
  [
    { name: 'extra/', type: 'dir', mtime: 1_700_000_000 },
    { name: 'extra/one', content: 'first extra layer', mtime: 1_700_000_000 },
    { name: 'etc/.wh.motd' },
  ],
  [{ name: 'extra/.wh..wh..opq' }, { name: 'extra/two', content: 'second extra layer', mtime: 1_700_000_001 }],
];

async function snapshots(daemon: TestDaemon): Promise<{ snapshotter: string; snapshots: SnapshotRow[] }> {
  const result = await daemon.cli(['snapshots', 'ls', '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

async function chainOf(daemon: TestDaemon, name: string): Promise<string> {
  const result = await daemon.cli(['images', '--json']);
  const image = (JSON.parse(result.stdout) as { name: string; chainId: string }[]).find((i) => i.name === name);
  assert.ok(image?.chainId, `${name} is unpacked`);
  return image.chainId;
}

/** The fs/ directories of a committed chain, top first (what an overlay lowerdir lists). */
function layerDirs(daemon: TestDaemon, snapshotter: string, top: string): string[] {
  const root = path.join(daemon.root, 'snapshots', snapshotter);
  const records = (JSON.parse(fs.readFileSync(path.join(root, 'metadata.json'), 'utf8')) as { snapshots: SnapshotRecord[] }).snapshots;
  const byName = new Map(records.map((r) => [r.name, r]));
  const dirs: string[] = [];
  for (let at = byName.get(top); at; at = at.parent ? byName.get(at.parent) : undefined) {
    dirs.push(path.join(root, 'snapshots', String(at.id), 'fs'));
  }
  return dirs;
}

/**
 * The "recent" threshold for listings: past every time the fixture layers
 * carry, and passed before anything is unpacked. umoci stores whole seconds,
 * rounded to the nearest: a directory changed at x.6 s carries x+1 s, after
 * Date.now() at x.7 s — it would print as "recent" on both sides and hide an
 * applier that leaves the apply time on a directory where umoci keeps the
 * layer's. So: the next whole second (+1 ms), once the clock has passed it.
 */
async function afterFixtureTimes(): Promise<number> {
  const threshold = Math.floor(Date.now() / 1000) * 1000 + 1001;
  // (+ a margin: file times come from the kernel's coarse clock, a tick behind.)
  await waitFor(() => Date.now() > threshold + 50, { what: `the clock past ${threshold + 50}`, timeoutMs: 5000, intervalMs: 10 });
  return threshold;
}

function mountedUnder(prefix: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m?.startsWith(prefix));
}

describe('pull unpacks into snapshots (real registry, real overlayfs)', function () {
  this.timeout(300_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let dir: string;
  let wantUmoci: string[];
  let wantRaw: string[];
  let opts: ListOptions;

  before(async () => {
    dir = await makeTempDir('gunpack-e2e', cleanup);
    registry = await startRegistry({ cleanup });
    const built = await buildUmociImage(dir);
    await addRawLayers(
      built.layout,
      built.tag,
      'raw',
      EXTRA_LAYERS.map((l) => buildTar(l)),
      dir,
    );
    for (const tag of [built.tag, 'raw']) {
      await runCommand('skopeo', [
        'copy',
        '--dest-tls-verify=false',
        `oci:${built.layout}:${tag}`,
        `docker://${registry.host}/unpack/img:${tag === 'raw' ? 'raw' : 'base'}`,
      ]);
    }
    opts = { root: false, recentAfter: await afterFixtureTimes() };
    wantUmoci = await listTree(await umociUnpack(built.layout, built.tag, path.join(dir, 'bundle-base')), opts);
    wantRaw = await listTree(await umociUnpack(built.layout, 'raw', path.join(dir, 'bundle-raw')), opts);
  });

  it('overlayfs: the mounted chain equals umoci unpack, and layers shared with a second image are unpacked once', async () => {
    const daemon = await startDaemon(cleanup, ['--snapshotter', 'overlayfs']);
    const base = `${registry.host}/unpack/img:base`;
    const pull = await daemon.cli(['pull', base]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, /Pull complete/);
    const top = await chainOf(daemon, base);
    const before = await snapshots(daemon);
    assert.equal(before.snapshotter, 'overlayfs');
    assert.ok(
      before.snapshots.every((s) => s.kind === 'committed'),
      'no extraction is left active',
    );
    const merged = path.join(dir, 'merged-base');
    fs.mkdirSync(merged);
    const lowers = layerDirs(daemon, 'overlayfs', top);
    assert.equal(lowers.length, before.snapshots.length);
    await mountLowers(lowers, merged);
    try {
      assert.equal(diffListings(wantUmoci, await listTree(merged, opts), ['umoci', 'gantry']), '');
    } finally {
      await umount(merged);
    }

    const raw = `${registry.host}/unpack/img:raw`;
    const second = await daemon.cli(['pull', raw]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /Already exists/, 'shared layers are not unpacked again');
    const after = await snapshots(daemon);
    assert.equal(after.snapshots.length, before.snapshots.length + EXTRA_LAYERS.length, 'only the extra layers became snapshots');
    const rawMerged = path.join(dir, 'merged-raw');
    fs.mkdirSync(rawMerged);
    await mountLowers(layerDirs(daemon, 'overlayfs', await chainOf(daemon, raw)), rawMerged);
    try {
      assert.equal(diffListings(wantRaw, await listTree(rawMerged, opts), ['umoci', 'gantry']), '');
    } finally {
      await umount(rawMerged);
    }

    // The same image again: nothing new. Then removal collects every snapshot.
    assert.equal((await daemon.cli(['pull', '-q', base])).code, 0);
    assert.equal((await snapshots(daemon)).snapshots.length, after.snapshots.length);
    assert.equal((await daemon.cli(['rmi', raw])).code, 0);
    assert.equal(
      (await snapshots(daemon)).snapshots.length,
      before.snapshots.length,
      "the raw image's own layers go, the shared base stays",
    );
    assert.equal((await daemon.cli(['rmi', base])).code, 0);
    assert.deepEqual((await snapshots(daemon)).snapshots, []);
    assert.deepEqual(mountedUnder(daemon.root), []);
  });

  it('native: the top snapshot holds the whole tree, equal to umoci unpack', async () => {
    const daemon = await startDaemon(cleanup, ['--snapshotter', 'native']);
    const raw = `${registry.host}/unpack/img:raw`;
    const pull = await daemon.cli(['pull', raw]);
    assert.equal(pull.code, 0, pull.stderr);
    const [topDir] = layerDirs(daemon, 'native', await chainOf(daemon, raw));
    assert.equal(diffListings(wantRaw, await listTree(topDir, opts), ['umoci', 'gantry']), '');
    assert.equal((await snapshots(daemon)).snapshotter, 'native');
  });

  it('a SIGKILL mid-unpack leaves no half-made snapshot and no mount; the pull then completes', async () => {
    const proxy = await startFaultProxy(registry.port);
    cleanup.defer(() => proxy.close());
    const image = await pushBusybox(registry, 'unpack/big:1', {
      format: 'oci',
      image: { marker: 'unpack-kill', files: { '/random.b64': randomBytes(3 * 1024 * 1024).toString('base64') } },
    });
    const ref = `${proxy.host}/unpack/big:1`;
    const daemon = await startDaemon(cleanup);
    // Stall the layer half-way: the streamed extraction is then in progress.
    const stalled = proxy.pauseBlobAfter(1024 * 1024, { digest: image.layerDigests[0] });
    const pull = daemon.cli(['pull', ref]);
    await stalled;
    const during = await snapshots(daemon);
    assert.ok(
      during.snapshots.some((s) => s.kind === 'active' && s.name.startsWith('extract-')),
      'an extraction is in progress',
    );
    await daemon.kill();
    proxy.release({ reset: true });
    await pull;
    await daemon.start();
    const after = await snapshots(daemon);
    assert.deepEqual(after.snapshots, [], 'start-up removed the half-applied snapshot');
    assert.deepEqual(mountedUnder(daemon.root), []);
    assert.equal((await daemon.cli(['images', '--json'])).stdout.includes(ref), false);
    const again = await daemon.cli(['pull', ref]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await snapshots(daemon)).snapshots.filter((s) => s.kind === 'committed').length, 1);
  });
});
