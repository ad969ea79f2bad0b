// TarApplier into overlay upperdirs, checked through real overlayfs mounts:
// whiteouts become char 0/0 devices, opaque markers the trusted.overlay.opaque
// xattr, implicit parents copy the lower directory's metadata, and the merged
// view of the layers equals the same layers applied natively (whiteouts
// deleting) into one plain directory.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TarApplier } from '../../../runtime/unpack/applier';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { buildTar, gzip, MEDIA, sha256, type TarEntry } from '../../helpers/tarBuilder';
import {
  bindMount,
  ctx,
  diffListings,
  listTree,
  mountLowers,
  mountOverlay,
  overlayMount,
  readableOf,
  umount,
} from '../../helpers/unpackFixtures';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const T = 1_700_000_000;

/** Three layers exercising whiteouts, opaque directories and replacements across layers. */
const LAYERS: TarEntry[][] = [
  [
    { name: 'etc/', type: 'dir', mode: 0o755, mtime: T },
    { name: 'etc/a', content: 'a', mtime: T },
    { name: 'etc/b', content: 'b', mtime: T },
    { name: 'etc/conf.d/', type: 'dir', mode: 0o750, uid: 5, gid: 6, mtime: T + 1 },
    { name: 'etc/conf.d/one', content: '1', mtime: T },
    { name: 'etc/conf.d/two', content: '2', mtime: T },
    { name: 'opq/', type: 'dir', mode: 0o700, uid: 7, mtime: T + 2 },
    { name: 'opq/old', content: 'old', mtime: T },
    { name: 'opq/sub/', type: 'dir', mtime: T },
    { name: 'opq/sub/old', content: 'old', mtime: T },
    { name: 'gone/', type: 'dir', mtime: T },
    { name: 'gone/deep/file', content: 'x', mtime: T },
    { name: 'replaced-by-dir', content: 'file', mtime: T },
    { name: 'replaced-by-file/', type: 'dir', mtime: T },
    { name: 'replaced-by-file/child', content: 'c', mtime: T },
    { name: 'hl1', content: 'linked', mtime: T },
    { name: 'hl2', type: 'link', linkname: 'hl1' },
    { name: 'sym', type: 'symlink', linkname: 'etc/a', mtime: T },
  ],
  [
    { name: 'etc/.wh.a' },
    { name: 'etc/conf.d/three', content: '3', mtime: T + 10 }, // implicit parent in the upperdir
    { name: 'opq/.wh..wh..opq' },
    { name: 'opq/new', content: 'new', mtime: T + 11 },
    { name: '.wh.gone' },
    { name: 'replaced-by-dir/', type: 'dir', mode: 0o711, mtime: T + 12 },
    { name: 'replaced-by-dir/inside', content: 'i', mtime: T + 12 },
    { name: 'replaced-by-file', content: 'now a file', mtime: T + 13 },
    { name: '.wh.sym' },
    { name: 'fresh/', type: 'dir', mtime: T + 14 },
    { name: 'fresh/f', content: 'f', xattrs: { 'user.k': 'v' }, mtime: T + 14 },
  ],
  [
    { name: 'gone/', type: 'dir', mode: 0o755, mtime: T + 20 }, // recreated after its whiteout
    { name: 'gone/back', content: 'back', mtime: T + 20 },
    { name: 'opq/sub/', type: 'dir', mtime: T + 21 },
    { name: 'opq/sub/newer', content: 'newer', mtime: T + 21 },
    { name: 'etc/.wh.conf.d' },
    { name: 'etc/conf.d/', type: 'dir', mode: 0o755, mtime: T + 22 },
    { name: 'etc/conf.d/only', content: 'only', mtime: T + 22 },
    { name: 'sym', type: 'symlink', linkname: '/etc/b', mtime: T + 23 },
    { name: 'fresh/.wh..wh..opq' },
    { name: '.wh.replaced-by-dir' }, // deleted, then used again as a parent without an entry of its own
    { name: 'replaced-by-dir/again/x', content: 'x', mtime: T + 24 },
  ],
];

describe('unpack: TarApplier into overlay upperdirs (checked through real overlay mounts)', function () {
  const cleanup = suiteCleanup();
  let base: string;
  before(async () => {
    base = await makeTempDir('gunpack-ovl', cleanup);
  });

  async function applyOverlayLayers(layers: TarEntry[][], root: string): Promise<string[]> {
    const uppers: string[] = [];
    for (const [i, entries] of layers.entries()) {
      const upper = path.join(root, `${i}`, 'fs');
      const work = path.join(root, `${i}`, 'work');
      fs.mkdirSync(upper, { recursive: true });
      fs.mkdirSync(work, { recursive: true });
      const tar = buildTar(entries);
      await new TarApplier().apply(ctx, overlayMount(upper, work, [...uppers].reverse()), readableOf(gzip(tar)), {
        mediaType: MEDIA.gzip,
        diffId: sha256(tar),
      });
      uppers.push(upper);
    }
    return uppers.reverse();
  }

  async function withMount<T>(lowers: string[], fn: (merged: string) => Promise<T>): Promise<T> {
    const merged = fs.mkdtempSync(path.join(base, 'merged-'));
    await mountLowers(lowers, merged);
    try {
      return await fn(merged);
    } finally {
      await umount(merged);
    }
  }

  it('writes whiteouts as char 0/0 devices and opaque markers as trusted.overlay.opaque', async () => {
    const root = fs.mkdtempSync(path.join(base, 'marks-'));
    const [upper2] = await applyOverlayLayers(LAYERS.slice(0, 2), root);
    const whiteout = fs.lstatSync(path.join(upper2, 'etc', 'a'));
    assert.ok(whiteout.isCharacterDevice());
    assert.equal(whiteout.rdev, 0);
    assert.ok(fs.lstatSync(path.join(upper2, 'gone')).isCharacterDevice());
    const opaque = await runCommand('getfattr', ['-h', '--only-values', '-n', 'trusted.overlay.opaque', path.join(upper2, 'opq')]);
    assert.equal(opaque.stdout, 'y');
    // The implicit parent etc/conf.d copies the lower directory's metadata.
    const conf = fs.lstatSync(path.join(upper2, 'etc', 'conf.d'));
    assert.equal(conf.mode & 0o7777, 0o750);
    assert.equal(`${conf.uid}:${conf.gid}`, '5:6');
    // Only this layer's entries are in the upperdir.
    assert.ok(!fs.existsSync(path.join(upper2, 'etc', 'b')));
    assert.ok(!fs.existsSync(path.join(upper2, 'opq', 'old')));
  });

  it('gives the same merged view as applying the layers natively into one directory', async () => {
    const root = fs.mkdtempSync(path.join(base, 'same-'));
    const uppers = await applyOverlayLayers(LAYERS, path.join(root, 'ovl'));
    const native = path.join(root, 'native');
    fs.mkdirSync(native);
    for (const entries of LAYERS) {
      const tar = buildTar(entries);
      await new TarApplier().apply(ctx, bindMount(native), readableOf(tar), { mediaType: MEDIA.tar, diffId: sha256(tar) });
    }
    const want = await listTree(native, { root: false, dirMtimes: false });
    const got = await withMount(uppers, (merged) => listTree(merged, { root: false, dirMtimes: false }));
    assert.equal(diffListings(want, got, ['native', 'overlay']), '');
    // And it is what the layers say.
    assert.deepEqual(
      want.map((l) => l.slice(0, l.indexOf(' '))),
      [
        '/etc',
        '/etc/b',
        '/etc/conf.d',
        '/etc/conf.d/only',
        '/fresh',
        '/gone',
        '/gone/back',
        '/hl1',
        '/hl2',
        '/opq',
        '/opq/new',
        '/opq/sub',
        '/opq/sub/newer',
        '/replaced-by-dir',
        '/replaced-by-dir/again',
        '/replaced-by-dir/again/x',
        '/replaced-by-file',
        '/sym',
      ],
    );
  });

  it('a writable overlay over the applied layers works (whiteouts honoured by the kernel)', async () => {
    const root = fs.mkdtempSync(path.join(base, 'rw-'));
    const uppers = await applyOverlayLayers(LAYERS, path.join(root, 'layers'));
    const upper = path.join(root, 'upper');
    const work = path.join(root, 'work');
    const merged = path.join(root, 'merged');
    for (const d of [upper, work, merged]) fs.mkdirSync(d);
    await mountOverlay(upper, work, uppers, merged);
    try {
      assert.deepEqual(fs.readdirSync(path.join(merged, 'opq')).sort(), ['new', 'sub']);
      assert.equal(fs.readFileSync(path.join(merged, 'etc', 'conf.d', 'only'), 'utf8'), 'only');
      fs.writeFileSync(path.join(merged, 'etc', 'b'), 'changed');
      fs.rmSync(path.join(merged, 'hl1'));
      assert.equal(fs.readFileSync(path.join(merged, 'hl2'), 'utf8'), 'linked');
    } finally {
      await umount(merged);
    }
  });

  // A whiteout whose parent exists only in a lower layer: the parent is made
  // in the upperdir with the lower directory's metadata, and the whiteout
  // device is created in it later, by the end-of-layer `tar -x` (devices.ts).
  // The parent's times must still be the lower's afterwards (umoci keeps them),
  // whatever the chunking of the stream. The same for an implicit opaque
  // directory, whose marker is set by the end-of-layer setfattr.
  for (const chunk of [64 * 1024, 1, 7, 513]) {
    it(`directories made for whiteouts keep the lower directories' times (${chunk}-byte chunks)`, async () => {
      const root = fs.mkdtempSync(path.join(base, 'wh-times-'));
      const lower = path.join(root, 'lower');
      const upper = path.join(root, 'upper');
      const work = path.join(root, 'work');
      for (const d of [lower, upper, work]) fs.mkdirSync(d);
      fs.mkdirSync(path.join(lower, 'etc', 'motd'), { recursive: true });
      fs.writeFileSync(path.join(lower, 'etc', 'motd', 'README'), 'a dir');
      fs.writeFileSync(path.join(lower, 'etc', 'passwd'), 'root');
      fs.mkdirSync(path.join(lower, 'deep', 'er'), { recursive: true });
      fs.writeFileSync(path.join(lower, 'deep', 'er', 'f'), 'f');
      fs.mkdirSync(path.join(lower, 'keep'));
      fs.writeFileSync(path.join(lower, 'keep', 'hidden'), 'h');
      const want: [string, number][] = [
        ['etc', T - 90],
        ['deep', T - 80],
        ['deep/er', T - 70],
        ['keep', T - 60],
      ];
      for (const [rel, mtime] of [...want].reverse()) fs.utimesSync(path.join(lower, rel), mtime - 5, mtime);
      // As in the end-to-end "raw" image: no entry for etc/ itself.
      const entries: TarEntry[] = [
        { name: 'extra/', type: 'dir', mtime: T },
        { name: 'extra/one', content: 'first extra layer', mtime: T },
        { name: 'etc/.wh.motd' },
        { name: 'deep/er/.wh.f' },
        { name: 'keep/.wh..wh..opq' },
      ];
      const tar = buildTar(entries);
      await new TarApplier().apply(ctx, overlayMount(upper, work, [lower]), readableOf(tar, chunk), {
        mediaType: MEDIA.tar,
        diffId: sha256(tar),
      });
      const wh = fs.lstatSync(path.join(upper, 'etc', 'motd'));
      assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'etc/motd is a whiteout device');
      assert.ok(fs.lstatSync(path.join(upper, 'deep', 'er', 'f')).isCharacterDevice(), 'deep/er/f is a whiteout device');
      const got = want.map(([rel]) => {
        const st = fs.lstatSync(path.join(upper, rel));
        return [rel, Math.round(st.mtimeMs / 1000), Math.round(st.atimeMs / 1000)];
      });
      assert.deepEqual(
        got,
        want.map(([rel, mtime]) => [rel, mtime, mtime - 5]),
      );
      const merged = await withMount([upper, lower], (m) => listTree(m, { root: false }));
      assert.deepEqual(
        merged.filter((l) => /^\/(etc|deep|deep\/er|keep) /.test(l)),
        [
          `/deep dir 0755 0:0 mtime=${T - 80}`,
          `/deep/er dir 0755 0:0 mtime=${T - 70}`,
          `/etc dir 0755 0:0 mtime=${T - 90}`,
          `/keep dir 0755 0:0 mtime=${T - 60}`,
        ],
      );
    });
  }

  it('refuses a hardlink to a file of a lower layer (as containerd does), naming the entry', async () => {
    const root = fs.mkdtempSync(path.join(base, 'hl-'));
    const lower = path.join(root, 'lower');
    const upper = path.join(root, 'upper');
    const work = path.join(root, 'work');
    for (const d of [lower, upper, work]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(lower, 'f'), 'lower');
    const tar = buildTar([{ name: 'h', type: 'link', linkname: 'f' }]);
    const err = await new TarApplier()
      .apply(ctx, overlayMount(upper, work, [lower]), readableOf(tar), { mediaType: MEDIA.tar, diffId: sha256(tar) })
      .catch((e: unknown) => e);
    assert.ok(isGantryError(err) && err.kind === 'InvalidArgument', String(err));
    assert.match(err.message, /entry "h": hardlink target "f" does not exist in this layer/);
  });

  it('ignores layer xattrs in the trusted.overlay namespace', async () => {
    const root = fs.mkdtempSync(path.join(base, 'tx-'));
    const lower = path.join(root, 'lower');
    fs.mkdirSync(path.join(lower, 'secret'), { recursive: true });
    fs.writeFileSync(path.join(lower, 'secret', 'key'), 'k');
    const [upper] = await applyOverlayLayers(
      [[{ name: 'd/', type: 'dir', xattrs: { 'trusted.overlay.redirect': '/secret', 'trusted.overlay.opaque': 'y' } }]],
      root,
    );
    const dump = await runCommand('getfattr', ['-h', '-d', '-m', '-', path.join(upper, 'd')]);
    assert.equal(dump.stdout, '');
  });
});
