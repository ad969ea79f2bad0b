// The overlayfs snapshotter against real overlay mounts (root): the shared
// suite, the exact mounts of each shape, whiteouts and opaque dirs in the
// merged view, long layer chains, and crash leftovers.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError, type ErrorKind } from '../../../runtime/errdefs/errdefs';
import { optionValue, type Mount } from '../../../runtime/mount/mount';
import { isMountPoint, mount, MOUNT_DATA_MAX, readMountInfo, runTool, unmount } from '../../../runtime/mount/mounter';
import { OverlaySnapshotter } from '../../../runtime/snapshots/overlay';
import { localSnapshotterHarness, runSnapshotterSuite, writableDir } from '../../../runtime/snapshots/testsuite';

const ctx = { signal: new AbortController().signal };
const kind = (k: ErrorKind) => (e: unknown) => isGantryError(e) && e.kind === k;
const open = (root: string) => OverlaySnapshotter.open(root, { transientPrefixes: ['extract-'] });

runSnapshotterSuite('overlayfs', () => localSnapshotterHarness(open, { canMount: true, tmpPrefix: 'ovl-' }));

describe('OverlaySnapshotter', function () {
  this.timeout(120_000);
  let root: string;
  let mnt: string;
  let s: OverlaySnapshotter;

  beforeEach(async () => {
    root = await fs.promises.realpath(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'ovl-')));
    mnt = path.join(root, 'mnt');
    await fs.promises.mkdir(mnt);
    s = await open(path.join(root, 'snap'));
  });
  afterEach(async () => {
    await s.close();
    await unmount(mnt);
    const left = (await readMountInfo()).filter((m) => m.mountPoint.startsWith(`${root}/`));
    await fs.promises.rm(root, { recursive: true, force: true });
    assert.deepEqual(left, [], 'nothing left mounted');
  });

  const snapDir = (id: number | string) => path.join(root, 'snap', 'snapshots', String(id));
  const idOf = (m: Mount) => Number(/snapshots\/(\d+)\/fs$/.exec(writableDir([m]))![1]);

  async function commitLayer(name: string, parent: string, fill: (upper: string) => Promise<void>): Promise<number> {
    const [m] = await s.prepare(ctx, `extract-${name}`, parent);
    await fill(writableDir([m]));
    await s.commit(ctx, name, `extract-${name}`);
    return idOf(m);
  }

  it('is supported here, and the check leaves nothing behind', async () => {
    const checkRoot = path.join(root, 'check');
    assert.deepEqual(await OverlaySnapshotter.supported(checkRoot), { ok: true });
    assert.deepEqual(await fs.promises.readdir(checkRoot), []);
    const odd = await OverlaySnapshotter.supported(path.join(root, 'a:b'));
    assert.equal(odd.ok, false);
  });

  it('hands out the mounts the contract describes for each shape', async () => {
    const [first] = await s.prepare(ctx, 'extract-1', '');
    const id1 = idOf(first);
    assert.deepEqual(first, { type: 'bind', source: `${snapDir(id1)}/fs`, options: ['rbind', 'rw'] });
    await s.commit(ctx, 'l1', 'extract-1');
    const [second] = await s.prepare(ctx, 'extract-2', 'l1');
    const id2 = Number(/snapshots\/(\d+)\/fs/.exec(optionValue(second, 'upperdir')!)![1]);
    assert.deepEqual(second, {
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', `lowerdir=${snapDir(id1)}/fs`, `upperdir=${snapDir(id2)}/fs`, `workdir=${snapDir(id2)}/work`],
    });
    await s.commit(ctx, 'l2', 'extract-2');
    assert.ok(fs.existsSync(`${snapDir(id2)}/fs`), 'commit leaves the layer where it is');
    const [third] = await s.prepare(ctx, 'ctr', 'l2');
    assert.equal(optionValue(third, 'lowerdir'), `${snapDir(id2)}/fs:${snapDir(id1)}/fs`);
    assert.deepEqual(await s.view(ctx, 'v1', 'l1'), [{ type: 'bind', source: `${snapDir(id1)}/fs`, options: ['rbind', 'ro'] }]);
    assert.deepEqual(await s.view(ctx, 'v2', 'l2'), [
      { type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${snapDir(id2)}/fs:${snapDir(id1)}/fs`] },
    ]);
    const [empty] = await s.view(ctx, 'v0', '');
    assert.deepEqual(empty.options, ['rbind', 'ro']);
    const doc = JSON.parse(await fs.promises.readFile(path.join(root, 'snap', 'metadata.json'), 'utf8'));
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.snapshots.map((r: { name: string }) => r.name).sort(), ['ctr', 'l1', 'l2', 'v0', 'v1', 'v2']);
  });

  it('merges layers as the kernel does: whiteouts hide files, opaque dirs hide lower content', async () => {
    await commitLayer('l1', '', async (upper) => {
      await fs.promises.writeFile(path.join(upper, 'gone'), 'deleted by l2');
      await fs.promises.writeFile(path.join(upper, 'changed'), 'old');
      await fs.promises.mkdir(path.join(upper, 'dir'));
      await fs.promises.writeFile(path.join(upper, 'dir', 'x'), 'hidden by opaque');
      await fs.promises.writeFile(path.join(upper, 'dir', 'y'), 'hidden by opaque');
    });
    await commitLayer('l2', 'l1', async (upper) => {
      // What the applier writes for `.wh.gone` and `dir/.wh..wh..opq` in an upperdir.
      await runTool('mknod', [path.join(upper, 'gone'), 'c', '0', '0']);
      await fs.promises.mkdir(path.join(upper, 'dir'));
      await runTool('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upper, 'dir')]);
      await fs.promises.writeFile(path.join(upper, 'dir', 'z'), 'new in l2');
      await fs.promises.writeFile(path.join(upper, 'changed'), 'new');
      await fs.promises.writeFile(path.join(upper, 'added'), 'l2');
    });
    const mounts = await s.prepare(ctx, 'ctr', 'l2');
    await mount(mounts, mnt);
    try {
      assert.deepEqual((await fs.promises.readdir(mnt)).sort(), ['added', 'changed', 'dir']);
      assert.deepEqual(await fs.promises.readdir(path.join(mnt, 'dir')), ['z']);
      assert.equal(await fs.promises.readFile(path.join(mnt, 'changed'), 'utf8'), 'new');
      await fs.promises.unlink(path.join(mnt, 'added'));
      await fs.promises.writeFile(path.join(mnt, 'mine'), 'container');
    } finally {
      await unmount(mnt);
    }
    const upper = writableDir(mounts);
    const whiteout = await fs.promises.lstat(path.join(upper, 'added'));
    assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0, 'deleting through the mount leaves a whiteout in the upper dir');
    assert.equal(await fs.promises.readFile(path.join(upper, 'mine'), 'utf8'), 'container');
  });

  it('never reuses an id, even after remove and reopen', async () => {
    const [a] = await s.prepare(ctx, 'a', '');
    await s.remove(ctx, 'a');
    assert.ok(!fs.existsSync(snapDir(idOf(a))), 'remove deletes the directory');
    await s.close();
    s = await open(path.join(root, 'snap'));
    const [b] = await s.prepare(ctx, 'b', '');
    assert.ok(idOf(b) > idOf(a), `${idOf(b)} > ${idOf(a)}`);
  });

  it('mounts a chain whose lowerdir list is longer than a page (relative lowerdirs)', async () => {
    await s.close();
    const deep = path.join(root, 'd'.repeat(100), 'e'.repeat(100));
    s = await open(deep);
    let parent = '';
    const layers = 40;
    for (let i = 0; i < layers; i++) {
      await commitLayer(`layer-${i}`, parent, (upper) => fs.promises.writeFile(path.join(upper, `f${i}`), String(i)));
      parent = `layer-${i}`;
    }
    const mounts = await s.prepare(ctx, 'ctr', parent);
    assert.ok(mounts[0].options.join(',').length > MOUNT_DATA_MAX, 'absolute options exceed one page');
    await mount(mounts, mnt);
    try {
      assert.equal((await fs.promises.readdir(mnt)).length, layers);
      assert.equal(await fs.promises.readFile(path.join(mnt, 'f0'), 'utf8'), '0');
      assert.equal(await fs.promises.readFile(path.join(mnt, `f${layers - 1}`), 'utf8'), String(layers - 1));
    } finally {
      await unmount(mnt);
    }
    const view = await s.view(ctx, 'v', parent);
    await mount(view, mnt);
    try {
      assert.equal((await fs.promises.readdir(mnt)).length, layers);
    } finally {
      await unmount(mnt);
    }
  });

  it('refuses at prepare a chain deeper than overlay can stack, creating nothing', async () => {
    await s.close();
    const snapRoot = path.join(root, 'deep');
    const now = new Date().toISOString();
    const snapshots = Array.from({ length: 501 }, (_, i) => ({
      id: i + 1,
      kind: 'committed',
      name: `l${i + 1}`,
      parent: i === 0 ? '' : `l${i}`,
      labels: {},
      createdAt: now,
      updatedAt: now,
    }));
    for (const r of snapshots) await fs.promises.mkdir(path.join(snapRoot, 'snapshots', String(r.id), 'fs'), { recursive: true });
    await fs.promises.writeFile(path.join(snapRoot, 'metadata.json'), JSON.stringify({ version: 1, nextId: 502, snapshots }));
    s = await open(snapRoot);
    await assert.rejects(s.prepare(ctx, 'too-deep', 'l501'), (e: unknown) => kind('InvalidArgument')(e) && /500/.test(String(e)));
    await assert.rejects(s.view(ctx, 'too-deep-view', 'l501'), kind('InvalidArgument'));
    await s.prepare(ctx, 'ok', 'l500');
    assert.equal((await fs.promises.readdir(path.join(snapRoot, 'snapshots'))).length, 502);
  });

  it('cleanup unmounts what is still mounted under its root and removes orphans', async () => {
    const mounts = await s.prepare(ctx, 'ctr', '');
    const inside = path.join(root, 'snap', 'leftover-mount');
    await fs.promises.mkdir(inside);
    await mount(mounts, inside);
    await fs.promises.mkdir(path.join(root, 'snap', 'snapshots', 'new-feedfacefeedface'));
    await s.cleanup(ctx);
    assert.equal(await isMountPoint(inside), false);
    assert.deepEqual((await fs.promises.readdir(path.join(root, 'snap', 'snapshots'))).length, 1);
    assert.equal((await s.stat(ctx, 'ctr')).kind, 'active', 'container snapshots are not transient');
  });
});
