// The applier against umoci, a layer applier no one here wrote. Fixture
// images are built two ways — by changing a real root filesystem and letting
// umoci compute the layers (its own whiteouts, hardlinks, xattrs), and by
// appending hand-made layers with `umoci raw add-layer` (opaque markers
// anywhere in a directory, whiteouts followed by re-creation, entries
// without parents, hardlink chains, devices) — then applied:
//   - natively: every layer into one plain directory, in order;
//   - as overlay: each layer into its own upperdir over the previous ones,
//     then mounted read-only with overlayfs;
// and each result is compared in full (path, type, mode, owner, size,
// content digest, link target, device numbers, mtimes, xattrs, hardlink
// groups) with `umoci unpack`'s rootfs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildTar, type TarEntry } from '../../helpers/tarBuilder';
import {
  addRawLayers,
  applyNative,
  applyOverlay,
  buildUmociImage,
  diffListings,
  listTree,
  mountLowers,
  readLayout,
  umociUnpack,
  umount,
  type ListOptions,
} from '../../helpers/unpackFixtures';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const T = 1_700_000_000;
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');

const RAW_LAYERS: TarEntry[][] = [
  [
    { name: 'data/d0/', type: 'dir', mtime: T },
    { name: 'data/d0/new1', content: 'n1', mtime: T },
    { name: 'data/d0/.wh..wh..opq' }, // after an entry of its own layer: that entry survives
    { name: 'data/d2/', type: 'dir', mode: 0o750, mtime: T },
    { name: 'data/d2/.wh..wh..opq' },
    { name: 'data/d2/x', content: 'x', mtime: T },
    { name: '.wh.lib' }, // a symlink deleted, then a directory in its place
    { name: 'lib/', type: 'dir', mtime: T },
    { name: 'lib/real', content: 'no longer a symlink', mtime: T },
    // usr/bin deleted, then used again as a parent without an entry of its own. (usr/'s entry
    // comes after: umoci sets a directory's times when it reaches its entry and lets later
    // implicit mkdirs change them, where gantry sets them at the end of the layer, as containerd.)
    { name: 'usr/.wh.bin' },
    { name: 'usr/bin/fresh', content: 'revived', mtime: T },
    { name: 'usr/', type: 'dir', mtime: T },
    { name: 'hl/', type: 'dir', mtime: T },
    { name: 'hl/a', content: 'chain', mtime: T, uid: 3, gid: 4, mode: 0o640 },
    { name: 'hl/b', type: 'link', linkname: 'hl/a' },
    { name: 'hl/c', type: 'link', linkname: 'hl/b' },
    { name: 'srv/', type: 'dir', mtime: T }, // a file of a lower layer becomes a directory
    { name: 'new/deep/path/file', content: 'no parents', mtime: T },
    { name: 'nothing/.wh.here' },
    { name: 'data/.wh.nonexistent' },
    { name: 'dev2/', type: 'dir', mtime: T },
    { name: 'dev2/zero', type: 'char', devmajor: 1, devminor: 5, mode: 0o666, mtime: T },
    { name: 'dev2/pipe', type: 'fifo', mode: 0o620, uid: 9, mtime: T },
    { name: 'caps', content: 'c', mode: 0o755, mtime: T, xattrs: { 'security.capability': CAP, 'user.a': 'b' } },
  ],
  [
    { name: 'data/', type: 'dir', mtime: T + 1 },
    { name: 'data/.wh..wh..opq' },
    { name: 'data/only', content: 'only', mtime: T + 1 },
    { name: 'hl/b', content: 'broken link', mtime: T + 1 },
    { name: 'home', type: 'symlink', linkname: '/tmp', mtime: T + 1 },
    { name: 'etc/.wh.motd' },
    { name: 'etc/motd/', type: 'dir', mode: 0o700, mtime: T + 1 }, // deleted and re-created in one layer
    { name: 'etc/motd/new', content: 'new', mtime: T + 1 },
  ],
];

describe('unpack: same trees as umoci unpack', function () {
  const cleanup = suiteCleanup();
  let dir: string;
  let layout: string;
  let tags: Record<'umoci' | 'raw', string>;

  before(async function () {
    this.timeout(300_000);
    dir = await makeTempDir('gunpack-umoci', cleanup);
    const built = await buildUmociImage(dir);
    layout = built.layout;
    await addRawLayers(
      layout,
      built.tag,
      'raw',
      RAW_LAYERS.map((l) => buildTar(l)),
      dir,
    );
    tags = { umoci: built.tag, raw: 'raw' };
  });

  for (const image of ['umoci', 'raw'] as const) {
    describe(image === 'umoci' ? 'layers computed by umoci repack' : 'hand-made layers added with umoci raw add-layer', () => {
      let want: string[];
      let opts: ListOptions;
      before(async function () {
        this.timeout(120_000);
        opts = { root: false, recentAfter: Date.now() };
        const rootfs = await umociUnpack(layout, tags[image], path.join(dir, `bundle-${image}`));
        want = await listTree(rootfs, opts);
        assert.ok(want.length > 40, `umoci's tree is too small to compare: ${want.length} paths`);
      });

      it('native: all layers into one directory', async () => {
        const target = path.join(dir, `native-${image}`);
        fs.mkdirSync(target);
        await applyNative(readLayout(layout, tags[image]), target);
        assert.equal(diffListings(want, await listTree(target, opts), ['umoci', 'gantry']), '');
      });

      it('overlay: each layer into its own upperdir, read through an overlay mount', async () => {
        const uppers = await applyOverlay(readLayout(layout, tags[image]), path.join(dir, `overlay-${image}`));
        const merged = path.join(dir, `merged-${image}`);
        fs.mkdirSync(merged);
        await mountLowers(uppers, merged);
        try {
          assert.equal(diffListings(want, await listTree(merged, opts), ['umoci', 'gantry']), '');
        } finally {
          await umount(merged);
        }
      });
    });
  }
});
