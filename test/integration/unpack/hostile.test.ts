// A corpus of hand-crafted hostile layers. Each must be refused with
// InvalidArgument naming the offending entry, and must leave everything
// outside the target exactly as it was: a sentinel tree beside the target
// (and, for overlay, the lowerdirs) is listed in full — paths, types, modes,
// owners, contents, times, xattrs — before and after, and the host paths the
// layers aim at must not appear.
//
// Every case runs twice: into a plain directory (bind mount, native
// whiteouts) and into an overlay upperdir whose lowerdir holds the same
// "earlier layer" content.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { TarApplier } from '../../../runtime/unpack/applier';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { buildTar, encodeEntry, gzip, MEDIA, rawHeader, sha256, type TarEntry } from '../../helpers/tarBuilder';
import { bindMount, ctx, listTree, overlayMount, readableOf } from '../../helpers/unpackFixtures';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

interface Case {
  title: string;
  /** What an earlier layer left: written into the target (native) or the lowerdir (overlay). */
  lower?: (dir: string, outside: string) => void;
  entries: (outside: string) => TarEntry[];
  /** Text the error message must contain (default: the last entry's name, quoted). */
  names?: string;
  rootless?: boolean;
  /** Host paths that must not exist afterwards. */
  absent?: string[];
}

const LONG = 'x'.repeat(300);

const CASES: Case[] = [
  { title: '../evil', entries: () => [{ name: '../evil', content: 'pwned' }] },
  { title: '/abs/evil', entries: () => [{ name: '/abs/evil', content: 'pwned' }], absent: ['/abs/evil', '/abs'] },
  {
    title: 'a/../../evil',
    entries: () => [
      { name: 'a/', type: 'dir' },
      { name: 'a/../../evil', content: 'pwned' },
    ],
  },
  { title: './../evil (a dot prefix does not hide ..)', entries: () => [{ name: './../evil', content: 'pwned' }] },
  { title: 'a directory named ..', entries: () => [{ name: '../', type: 'dir' }] },
  {
    title: 'symlink link -> / then link/evil',
    entries: () => [
      { name: 'link', type: 'symlink', linkname: '/' },
      { name: 'link/evil', content: 'pwned' },
    ],
    absent: ['/evil'],
  },
  {
    title: 'symlink link -> .. then link/evil',
    entries: () => [
      { name: 'link', type: 'symlink', linkname: '..' },
      { name: 'link/evil', content: 'pwned' },
    ],
  },
  {
    title: 'symlink chain a -> b -> / then a/evil',
    entries: () => [
      { name: 'b', type: 'symlink', linkname: '/' },
      { name: 'a', type: 'symlink', linkname: 'b' },
      { name: 'a/evil', content: 'pwned' },
    ],
    absent: ['/evil'],
  },
  {
    title: 'symlink to the sentinel then a directory and a file through it',
    entries: (outside) => [
      { name: 'link', type: 'symlink', linkname: outside },
      { name: 'link/sub/', type: 'dir', mode: 0o777 },
    ],
  },
  {
    title: 'a lower layer symlink etc -> the sentinel, then etc/passwd',
    lower: (dir, outside) => fs.symlinkSync(outside, path.join(dir, 'etc')),
    entries: () => [{ name: 'etc/passwd', content: 'root::0:0::/:/bin/sh\n' }],
  },
  {
    title: 'a lower layer symlink deep in the tree (usr/lib -> the sentinel), then usr/lib/x/y',
    lower: (dir, outside) => {
      fs.mkdirSync(path.join(dir, 'usr'));
      fs.symlinkSync(outside, path.join(dir, 'usr', 'lib'));
    },
    entries: () => [
      { name: 'usr/', type: 'dir' },
      { name: 'usr/lib/x/y', content: 'pwned' },
    ],
  },
  {
    title: 'whiteout through a lower symlink (link -> the sentinel, link/.wh.keep)',
    lower: (dir, outside) => fs.symlinkSync(outside, path.join(dir, 'link')),
    entries: () => [{ name: 'link/.wh.keep' }],
  },
  {
    title: 'opaque marker through a symlink of this layer',
    entries: (outside) => [{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/.wh..wh..opq' }],
  },
  { title: 'hardlink h -> /etc/passwd', entries: () => [{ name: 'h', type: 'link', linkname: '/etc/passwd' }] },
  { title: 'hardlink h -> ../outside', entries: () => [{ name: 'h', type: 'link', linkname: '../outside/keep' }] },
  {
    title: 'hardlink through a symlinked directory (d -> the sentinel, h -> d/keep)',
    entries: (outside) => [
      { name: 'd', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 'd/keep' },
    ],
  },
  {
    title: 'hardlink through a lower symlinked directory',
    lower: (dir, outside) => fs.symlinkSync(outside, path.join(dir, 'd')),
    entries: () => [{ name: 'h', type: 'link', linkname: 'd/keep' }],
  },
  {
    title: 'a hardlink to a symlink, then a file below the hardlink',
    entries: (outside) => [
      { name: 'l', type: 'symlink', linkname: outside },
      { name: 'h', type: 'link', linkname: 'l' },
      { name: 'h/evil', content: 'pwned' },
    ],
  },
  {
    title: 'a block device as non-root',
    rootless: true,
    entries: () => [{ name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o666 }],
  },
  { title: 'whiteout .wh... (names ..)', entries: () => [{ name: 'a/', type: 'dir' }, { name: 'a/.wh...' }] },
  { title: 'whiteout .wh.. (names .)', entries: () => [{ name: 'a/', type: 'dir' }, { name: 'a/.wh..' }] },
  { title: 'whiteout .wh. (names nothing)', entries: () => [{ name: 'a/', type: 'dir' }, { name: 'a/.wh.' }] },
  { title: 'a file replacing the target root (.)', entries: () => [{ name: '.', content: 'x' }] },
  { title: 'a symlink replacing the target root (./)', entries: () => [{ name: './', type: 'symlink', linkname: '/' }] },
  {
    title: 'a hardlink replacing the target root',
    entries: () => [
      { name: 'f', content: 'x' },
      { name: '.', type: 'link', linkname: 'f' },
    ],
  },
  { title: 'a path component longer than 255 bytes', entries: () => [{ name: `a/${'y'.repeat(256)}`, content: 'x' }], names: '"a/yyyy' },
  {
    title: 'a path longer than PATH_MAX (PAX)',
    entries: () => [{ name: Array.from({ length: 40 }, () => LONG.slice(0, 200)).join('/'), content: 'x' }],
    names: `"${LONG.slice(0, 50)}`,
  },
  {
    title: 'a GNU long name with ..',
    entries: () => [{ name: `${'z'.repeat(120)}/../../evil`, content: 'x', longName: 'gnu' }],
    names: `"${'z'.repeat(50)}`,
  },
  {
    title: 'a PAX path with a NUL byte',
    entries: () => [{ name: 'ok', content: 'x', pax: { path: Buffer.from('a\u0000/../../evil') } }],
    names: 'NUL',
  },
  { title: 'a name that is not UTF-8', entries: () => [{ name: Buffer.from([0x61, 0xff, 0xfe]), content: 'x' }], names: 'not valid UTF-8' },
  {
    title: 'a file below a file',
    entries: () => [
      { name: 'f', content: 'x' },
      { name: 'f/g', content: 'y' },
    ],
  },
  {
    title: 'a file below a fifo of this layer',
    entries: () => [
      { name: 'p', type: 'fifo' },
      { name: 'p/g', content: 'y' },
    ],
  },
  { title: 'GNU sparse entries (unsupported)', entries: () => [{ name: 'sparse', typeflag: 'S', content: 'x' }] },
  {
    title: 'a header size far beyond the data (10 GiB declared, 1 byte given)',
    entries: () => [{ name: 'bomb', content: 'x', size: 10 * 1024 ** 3 }],
    names: 'not a valid tar archive',
  },
  { title: 'a negative-looking uid', entries: () => [{ name: 'u', content: 'x', pax: { uid: '-1' } }] },
  {
    title: 'an xattr value larger than the kernel allows (64 KiB)',
    entries: () => [{ name: 'f', content: 'x', xattrs: { 'user.big': Buffer.alloc(64 * 1024 + 1, 0x41) } }],
  },
  {
    title: 'one entry with more xattr bytes than an entry may carry',
    entries: () => [
      {
        name: 'f',
        content: 'x',
        xattrs: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`user.x${i}`, Buffer.alloc(60 * 1024, 0x41)])),
      },
    ],
  },
  {
    title: 'entries whose xattrs together exceed what one layer may hold',
    entries: () =>
      Array.from({ length: 300 }, (_, i) => ({ name: `f${i}`, content: 'x', xattrs: { 'user.big': Buffer.alloc(60 * 1024, 0x41) } })),
    names: "the layer's extended attributes exceed",
  },
];

describe('unpack: hostile layers are refused and harm nothing outside the target', function () {
  const cleanup = suiteCleanup();
  let base: string;

  before(async () => {
    base = await makeTempDir('gunpack-hostile', cleanup);
  });

  for (const mode of ['native', 'overlay'] as const) {
    describe(mode, () => {
      for (const c of CASES) {
        it(c.title, async () => {
          const root = fs.mkdtempSync(path.join(base, `${mode}-`));
          const outside = path.join(root, 'outside');
          const target = path.join(root, 'target');
          const lower = path.join(root, 'lower');
          fs.mkdirSync(outside);
          fs.writeFileSync(path.join(outside, 'keep'), 'sentinel');
          fs.mkdirSync(path.join(outside, 'dir'), { mode: 0o700 });
          fs.writeFileSync(path.join(outside, 'dir', 'inner'), 'sentinel');
          fs.mkdirSync(target);
          fs.mkdirSync(lower);
          fs.mkdirSync(path.join(root, 'work'));
          c.lower?.(mode === 'native' ? target : lower, outside);
          const entries = c.entries(outside);
          const tar = buildTar(entries);
          const mounts = mode === 'native' ? bindMount(target) : overlayMount(target, path.join(root, 'work'), [lower]);
          const outsideOf = async () => (await listTree(root)).filter((l) => !/^\/target[ /]/.test(l) && !l.startsWith('/ '));
          const before = await outsideOf();
          const lowerBefore = await listTree(lower);

          const applier = new TarApplier({ rootless: c.rootless ?? false });
          const err = await applier.apply(ctx, mounts, readableOf(gzip(tar)), { mediaType: MEDIA.gzip, diffId: sha256(tar) }).then(
            () => undefined,
            (e: unknown) => e,
          );

          assert.ok(err, 'the layer was applied');
          assert.ok(isGantryError(err), `not a GantryError: ${err instanceof Error ? err.message : JSON.stringify(err)}`);
          assert.equal(err.kind, 'InvalidArgument', err.message);
          const last = entries[entries.length - 1].name;
          const expected = c.names ?? JSON.stringify(Buffer.isBuffer(last) ? last.toString() : last);
          assert.ok(err.message.includes(expected), `message does not name ${expected}: ${err.message}`);
          assert.deepEqual(await outsideOf(), before, 'something outside the target changed');
          assert.deepEqual(await listTree(lower), lowerBefore, 'the lowerdir changed');
          for (const p of c.absent ?? []) assert.ok(!fs.existsSync(p), `${p} exists`);
        });
      }
    });
  }

  it('thousands of entries with 1 MiB PAX xattrs are refused at the first, with bounded memory', async () => {
    // 800 MiB of xattrs in a few MB of gzip: held until the end of the layer,
    // they would take gigabytes (and a dump string past
    // V8's limit). (PAX headers over 1 MiB are refused before their xattrs
    // are read: see the long-header tests below.)
    const root = fs.mkdtempSync(path.join(base, 'xattr-bomb-'));
    fs.mkdirSync(path.join(root, 'target'));
    const value = Buffer.alloc(1024 * 1024 - 1024, 0x41);
    let produced = 0;
    const entries = function* () {
      for (let i = 0; i < 800; i++) {
        produced++;
        yield* encodeEntry({ name: `f${i}`, content: 'x', xattrs: { 'user.bomb': value } });
      }
    };
    const gzipped = Readable.from(entries()).pipe(zlib.createGzip({ level: 1 }));
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const err = await new TarApplier()
      .apply(ctx, bindMount(path.join(root, 'target')), gzipped, { mediaType: MEDIA.gzip, diffId: `sha256:${'0'.repeat(64)}` })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => clearInterval(sampler));
    gzipped.destroy();
    assert.ok(isGantryError(err), `not a GantryError: ${String(err)}`);
    assert.equal(err.kind, 'InvalidArgument', err.message);
    assert.match(err.message, /layer entry "f0": extended attribute user.bomb is \d+ bytes; at most 65536/);
    assert.ok(produced < 20, `the applier read ${produced} entries before refusing`);
    assert.ok(peak - rssBefore < 256 * 1024 * 1024, `RSS grew by ${Math.round((peak - rssBefore) / 2 ** 20)} MiB`);
  });

  // tar-stream buffers a PAX header or GNU long name whole before decoding
  // it, refusing only those over 4 MiB ("Header exceeds max size"). gantryd
  // refuses anything over 1 MiB (Go's archive/tar limit) at its 512-byte
  // header, naming it, before buffering any of it.
  for (const [kind, typeflag] of [
    ['PAX header', 'x'],
    ['GNU long name', 'L'],
  ] as const) {
    for (const mib of [2, 8, 64]) {
      it(`a ${mib} MiB ${kind} is refused at its header, with bounded memory`, async () => {
        const root = fs.mkdtempSync(path.join(base, 'long-header-'));
        const target = path.join(root, 'target');
        fs.mkdirSync(target);
        const size = mib * 1024 * 1024;
        // A valid body (one PAX record, or a name), streamed 1 MiB at a time.
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        let produced = 0;
        const layer = function* () {
          yield rawHeader({ name: Buffer.from(typeflag === 'x' ? 'PaxHeaders/big' : '././@LongLink'), typeflag, size });
          for (let done = 0; done < size; done += chunk.length) {
            produced += chunk.length;
            const part = Buffer.from(chunk);
            if (done === 0 && typeflag === 'x') part.write(`${size} comment=`, 'latin1');
            if (done + chunk.length >= size) part[part.length - 1] = typeflag === 'x' ? 0x0a : 0;
            yield part;
          }
          yield* encodeEntry({ name: 'after', content: 'x' });
          yield Buffer.alloc(1024);
        };
        const gzipped = Readable.from(layer(), { highWaterMark: 1 }).pipe(zlib.createGzip({ level: 1 }));
        global.gc?.();
        const rssBefore = process.memoryUsage().rss;
        let peak = rssBefore;
        const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
        const err = await new TarApplier()
          .apply(ctx, bindMount(target), gzipped, { mediaType: MEDIA.gzip, diffId: `sha256:${'0'.repeat(64)}` })
          .then(
            () => undefined,
            (e: unknown) => e,
          )
          .finally(() => clearInterval(sampler));
        gzipped.destroy();
        assert.ok(isGantryError(err), `not a GantryError: ${String(err)}`);
        assert.equal(err.kind, 'InvalidArgument', err.message);
        const name = typeflag === 'x' ? 'PaxHeaders/big' : '././@LongLink';
        assert.equal(err.message, `layer ${kind} "${name}" is ${size} bytes; at most 1048576 (1 MiB) are accepted`);
        if (mib === 64) assert.ok(produced < size / 2, `the applier read ${produced / 2 ** 20} MiB of the header before refusing`);
        assert.deepEqual(fs.readdirSync(target), []);
        assert.ok(peak - rssBefore < 64 * 1024 * 1024, `RSS grew by ${Math.round((peak - rssBefore) / 2 ** 20)} MiB`);
      });
    }
  }

  for (const mode of ['native', 'overlay'] as const) {
    it(`${mode}: a directory replaced by a symlink later in the layer gets nothing of the end-of-layer work through it`, async () => {
      // d/ (mode 0777), its xattrs, the devices, fifos, whiteouts and opaque
      // marker below it are queued for the end of the layer; then d becomes a
      // symlink to the sentinel. None of the queued work may follow it.
      const root = fs.mkdtempSync(path.join(base, 'replaced-'));
      const outside = path.join(root, 'outside');
      const target = path.join(root, 'target');
      const lower = path.join(root, 'lower');
      fs.mkdirSync(outside, { mode: 0o700 });
      fs.writeFileSync(path.join(outside, 'f'), 'sentinel');
      fs.mkdirSync(path.join(outside, 'sub'));
      fs.writeFileSync(path.join(outside, 'sub', 'keep'), 'sentinel');
      fs.mkdirSync(target);
      fs.mkdirSync(path.join(lower, 'd', 'gone'), { recursive: true });
      fs.mkdirSync(path.join(root, 'work'));
      const tar = buildTar([
        { name: 'd/', type: 'dir', mode: 0o777, uid: 1234 },
        { name: 'd/big', content: Buffer.alloc(300_000, 1) },
        { name: 'd/f', content: 'x', xattrs: { 'user.evil': 'yes', 'trusted.evil': 'yes' } },
        { name: 'd/sub/', type: 'dir', mode: 0o777, xattrs: { 'user.evil': 'yes' } },
        { name: 'd/sub/.wh..wh..opq' },
        { name: 'd/.wh.gone' },
        { name: 'd/null', type: 'char', devmajor: 1, devminor: 3 },
        { name: 'd/fifo', type: 'fifo' },
        { name: 'd', type: 'symlink', linkname: outside },
      ]);
      const mounts = mode === 'native' ? bindMount(target) : overlayMount(target, path.join(root, 'work'), [lower]);
      const before = await listTree(outside);
      await new TarApplier().apply(ctx, mounts, readableOf(tar), { mediaType: MEDIA.tar, diffId: sha256(tar) });
      assert.deepEqual(await listTree(outside), before);
      assert.equal(fs.readlinkSync(path.join(target, 'd')), outside);
    });
  }
});
