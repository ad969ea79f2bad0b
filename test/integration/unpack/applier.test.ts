// TarApplier into plain directories (bind mounts, native whiteouts): every
// entry type, owners and modes, xattrs, replacement rules, whiteouts and
// opaque directories, hardlinks, integrity and compression. Trees are
// checked through full listings (test/helpers/unpackFixtures.ts listTree).
import * as assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { TarApplier, applyTarget } from '../../../runtime/unpack/applier';
import { isGantryError, type ErrorKind } from '../../../runtime/errdefs/errdefs';
import { buildTar, gzip, MEDIA, sha256, zstd, type TarEntry } from '../../helpers/tarBuilder';
import { bindMount, ctx, listTree, readableOf } from '../../helpers/unpackFixtures';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

const T = 1_700_000_000;
const sh = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw+ep

const openFds = () => fs.readdirSync('/proc/self/fd').length;

const kind = (k: ErrorKind, text?: string | RegExp) => (e: unknown) => {
  assert.ok(isGantryError(e), `not a GantryError: ${String(e)}`);
  assert.equal(e.kind, k, e.message);
  if (typeof text === 'string') assert.ok(e.message.includes(text), e.message);
  else if (text) assert.match(e.message, text);
  return true;
};

describe('unpack: TarApplier into a plain directory', function () {
  const cleanup = suiteCleanup();
  let base: string;
  before(async () => {
    base = await makeTempDir('gunpack', cleanup);
  });
  const fresh = () => fs.mkdtempSync(path.join(base, 't-'));

  async function apply(dir: string, entries: TarEntry[], opts: { media?: keyof typeof MEDIA; applier?: TarApplier } = {}) {
    const tar = buildTar(entries);
    const media = opts.media ?? 'tar';
    const data = media === 'gzip' ? gzip(tar) : media === 'zstd' ? zstd(tar) : tar;
    return (opts.applier ?? new TarApplier()).apply(ctx, bindMount(dir), readableOf(data, 7000), {
      mediaType: MEDIA[media],
      diffId: sha256(tar),
    });
  }

  const EVERY_TYPE: TarEntry[] = [
    { name: 'etc/', type: 'dir', mode: 0o755, mtime: T },
    { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o644, mtime: T + 1 },
    { name: 'etc/shadow', content: 'root:*::0:::::\n', mode: 0o640, gid: 42, mtime: T + 2 },
    { name: 'bin/', type: 'dir', mode: 0o755, mtime: T },
    { name: 'bin/su', content: Buffer.alloc(200_000, 7), mode: 0o4755, mtime: T + 3 },
    { name: 'bin/wall', content: 'w', mode: 0o2755, gid: 5, mtime: T + 4 },
    { name: 'bin/ping', content: 'ping', mode: 0o755, xattrs: { 'security.capability': CAP }, mtime: T + 5 },
    { name: 'tmp/', type: 'dir', mode: 0o1777, mtime: T + 6 },
    { name: 'home/', type: 'dir', mode: 0o755, mtime: T },
    { name: 'home/u/', type: 'dir', mode: 0o700, uid: 1000, gid: 1000, mtime: T + 7 },
    { name: 'home/u/notes', content: 'hello', mode: 0o600, uid: 1000, gid: 1000, mtime: T + 8, xattrs: { 'user.note': 'a=b' } },
    { name: 'home/u/big', content: Buffer.alloc(3 * 1024 * 1024 + 17, 'abc'), uid: 1000, gid: 1000, mtime: T + 9 },
    { name: 'home/u/empty', content: '', uid: 4_000_000, gid: 4_000_001, mtime: T + 10 },
    { name: 'abs', type: 'symlink', linkname: '/etc/passwd', mtime: T + 11 },
    { name: 'rel', type: 'symlink', linkname: '../etc/./passwd', uid: 7, gid: 8, mtime: T + 12 },
    { name: 'dangling', type: 'symlink', linkname: 'no/such/file', mtime: T + 13 },
    { name: 'hard', type: 'link', linkname: 'etc/passwd' },
    { name: 'hard-to-symlink', type: 'link', linkname: 'abs' },
    { name: 'dev/', type: 'dir', mode: 0o755, mtime: T },
    { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666, mtime: T + 14 },
    { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660, gid: 6, mtime: T + 15 },
    { name: 'dev/pipe', type: 'fifo', mode: 0o600, uid: 1000, mtime: T + 16 },
    { name: 'dev/null-link', type: 'link', linkname: 'dev/null' },
    { name: 'opt/deep/er/file', content: 'implicit parents', mtime: T + 17 },
    { name: 'var/', type: 'dir', mode: 0o755, mtime: T + 18, xattrs: { 'user.dir': 'd', 'trusted.t': 't' } },
  ];

  const EXPECTED = [
    `/abs symlink 0777 0:0 -> /etc/passwd mtime=${T + 11} links=[hard-to-symlink]`,
    `/bin dir 0755 0:0 mtime=${T}`,
    `/bin/ping file 0755 0:0 size=4 sha256=${sh('ping')} mtime=${T + 5} xattrs={security.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=}`,
    `/bin/su file 4755 0:0 size=200000`,
    `/bin/wall file 2755 0:5 size=1`,
    `/dangling symlink 0777 0:0 -> no/such/file mtime=${T + 13}`,
    `/dev dir 0755 0:0 mtime=${T}`,
    `/dev/null char 0666 0:0 dev=1,3 mtime=${T + 14} links=[dev/null-link]`,
    `/dev/null-link char 0666 0:0 dev=1,3 mtime=${T + 14} links=[dev/null]`,
    `/dev/pipe fifo 0600 1000:0 mtime=${T + 16}`,
    `/dev/sda block 0660 0:6 dev=8,0 mtime=${T + 15}`,
    `/etc dir 0755 0:0 mtime=${T}`,
    `/etc/passwd file 0644 0:0 size=26`,
    `/etc/shadow file 0640 0:42 size=15`,
    `/hard file 0644 0:0 size=26`,
    `/hard-to-symlink symlink 0777 0:0 -> /etc/passwd mtime=${T + 11} links=[abs]`,
    `/home dir 0755 0:0 mtime=${T}`,
    `/home/u dir 0700 1000:1000 mtime=${T + 7}`,
    `/home/u/big file 0644 1000:1000 size=3145745`,
    `/home/u/empty file 0644 4000000:4000001 size=0`,
    `/home/u/notes file 0600 1000:1000 size=5 sha256=${sh('hello')} mtime=${T + 8} xattrs={user.note=0sYT1i}`,
    `/opt dir 0755 0:0`,
    `/opt/deep/er/file file 0644 0:0 size=16`,
    `/rel symlink 0777 7:8 -> ../etc/./passwd mtime=${T + 12}`,
    `/tmp dir 1777 0:0 mtime=${T + 6}`,
    `/var dir 0755 0:0 mtime=${T + 18} xattrs={trusted.t=0sdA==,user.dir=0sZA==}`,
  ];

  for (const media of ['tar', 'gzip', 'zstd'] as const) {
    it(`applies every entry type with owners, modes, times and xattrs (${media})`, async () => {
      const dir = fresh();
      const result = await apply(dir, EVERY_TYPE, { media });
      assert.equal(result.entries, EVERY_TYPE.length);
      assert.equal(result.diffId, sha256(buildTar(EVERY_TYPE)));
      assert.equal(result.uncompressedSize, buildTar(EVERY_TYPE).length);
      const listing = await listTree(dir, { root: false });
      for (const want of EXPECTED) {
        const line = listing.find((l) => l.startsWith(want.slice(0, want.indexOf(' ') + 1)));
        assert.ok(line, `missing ${want}`);
        assert.ok(line.startsWith(want), `got  ${line}\nwant ${want}…`);
      }
      assert.equal(fs.readFileSync(path.join(dir, 'home/u/big')).equals(Buffer.alloc(3 * 1024 * 1024 + 17, 'abc')), true);
      assert.equal(fs.statSync(path.join(dir, 'hard')).ino, fs.statSync(path.join(dir, 'etc/passwd')).ino);
    });
  }

  it('reports a diff ID mismatch as DataLoss', async () => {
    const tar = buildTar([{ name: 'f', content: 'x' }]);
    const wrong = sha256(Buffer.from('something else'));
    await assert.rejects(
      new TarApplier().apply(ctx, bindMount(fresh()), readableOf(gzip(tar)), { mediaType: MEDIA.gzip, diffId: wrong }),
      kind('DataLoss', `layer diff ID mismatch: expected ${wrong}, got ${sha256(tar)}`),
    );
  });

  it('refuses unknown media types, bad diff IDs and mounts it cannot write', async () => {
    const tar = buildTar([{ name: 'f', content: 'x' }]);
    const dir = fresh();
    const opts = { mediaType: MEDIA.tar, diffId: sha256(tar) };
    await assert.rejects(
      new TarApplier().apply(ctx, bindMount(dir), readableOf(tar), { ...opts, mediaType: 'application/vnd.oci.image.layer.v1.tar+bzip2' }),
      kind('InvalidArgument', 'unsupported layer media type'),
    );
    await assert.rejects(
      new TarApplier().apply(ctx, bindMount(dir), readableOf(tar), { ...opts, diffId: 'md5:abc' }),
      kind('InvalidArgument'),
    );
    await assert.rejects(new TarApplier().apply(ctx, [], readableOf(tar), opts), kind('InvalidArgument'));
    await assert.rejects(
      new TarApplier().apply(ctx, [{ type: 'bind', source: dir, options: ['ro'] }], readableOf(tar), opts),
      kind('InvalidArgument', 'read-only'),
    );
    await assert.rejects(
      new TarApplier().apply(ctx, [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${dir}`] }], readableOf(tar), opts),
      kind('InvalidArgument', 'upperdir'),
    );
    await assert.rejects(
      new TarApplier().apply(ctx, [{ type: 'tmpfs', source: 'tmpfs', options: [] }], readableOf(tar), opts),
      kind('InvalidArgument'),
    );
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('maps mounts to targets', () => {
    assert.deepEqual(
      applyTarget([{ type: 'overlay', source: 'overlay', options: ['index=off', 'lowerdir=/l/2:/l/1', 'upperdir=/u', 'workdir=/w'] }]),
      {
        root: '/u',
        lowers: ['/l/2', '/l/1'],
        whiteouts: 'overlay',
        opaqueXattr: 'trusted.overlay.opaque',
      },
    );
    assert.deepEqual(applyTarget([{ type: 'overlay', source: 'overlay', options: ['userxattr', 'upperdir=/u', 'workdir=/w'] }]), {
      root: '/u',
      lowers: [],
      whiteouts: 'overlay',
      opaqueXattr: 'user.overlay.opaque',
    });
    assert.deepEqual(applyTarget([{ type: 'bind', source: '/s', options: ['rbind', 'rw'] }]), {
      root: '/s',
      lowers: [],
      whiteouts: 'native',
      opaqueXattr: 'trusted.overlay.opaque',
    });
  });

  it('refuses data that does not decompress, or is not a tar, with InvalidArgument', async () => {
    const tar = buildTar([{ name: 'f', content: randomBytes(10_000) }]);
    const diffId = sha256(tar);
    const dir = fresh();
    const bad = [
      { mediaType: MEDIA.gzip, data: tar, text: 'not valid gzip' },
      { mediaType: MEDIA.gzip, data: gzip(tar).subarray(0, 200), text: 'not valid gzip' },
      { mediaType: MEDIA.zstd, data: gzip(tar), text: 'not valid zstd' },
      { mediaType: MEDIA.zstd, data: zstd(tar).subarray(0, 30), text: 'not valid zstd' },
      { mediaType: MEDIA.tar, data: Buffer.alloc(1024, 'garbage'), text: 'not a valid tar archive' },
      { mediaType: MEDIA.tar, data: tar.subarray(0, 700), text: 'not a valid tar archive' },
    ];
    for (const b of bad) {
      await assert.rejects(
        new TarApplier().apply(ctx, bindMount(dir), readableOf(b.data), { mediaType: b.mediaType, diffId }),
        kind('InvalidArgument', b.text),
      );
    }
  });

  it('passes errors of the layer stream through', async () => {
    const boom = new Error('connection reset');
    const layer = new Readable({
      read() {
        this.destroy(boom);
      },
    });
    await assert.rejects(
      new TarApplier().apply(ctx, bindMount(fresh()), layer, { mediaType: MEDIA.gzip, diffId: sha256(Buffer.alloc(0)) }),
      (e: unknown) => e === boom,
    );
  });

  it('stops with Cancelled when the context is aborted, after everything it started has finished', async () => {
    const entries: TarEntry[] = Array.from({ length: 2000 }, (_, i) => ({
      name: `d${i % 20}/f${i}`,
      content: Buffer.alloc(i % 3 === 0 ? 100_000 : 900, i),
    }));
    const tar = buildTar(entries);
    const controller = new AbortController();
    const dir = fresh();
    const fdsBefore = openFds();
    let sent = 0;
    const layer = new Readable({
      read() {
        if (sent >= tar.length) return this.push(null);
        this.push(tar.subarray(sent, sent + 65536));
        sent += 65536;
        if (sent > tar.length / 3) controller.abort();
      },
    });
    await assert.rejects(
      new TarApplier().apply({ signal: controller.signal }, bindMount(dir), layer, { mediaType: MEDIA.tar, diffId: sha256(tar) }),
      kind('Cancelled'),
    );
    assert.ok(sent < tar.length, 'read the whole layer');
    // Nothing keeps writing after apply returned: the tree is stable, no file is left open.
    assert.equal(openFds(), fdsBefore);
    // No file operation of this process is in flight (a write still queued would be one), so
    // two listings in a row must agree.
    const inFlight = () => process.getActiveResourcesInfo().filter((r) => r.startsWith('FSReq') || r.startsWith('FileHandle'));
    await waitFor(() => inFlight().length === 0, { what: 'no file operation in flight', timeoutMs: 10_000, describe: inFlight });
    const first = await listTree(dir);
    assert.deepEqual(await listTree(dir), first);
  });

  it('closes every file it opened when a layer is refused halfway', async () => {
    const fdsBefore = openFds();
    const entries: TarEntry[] = Array.from({ length: 40 }, (_, i) => ({ name: `big${i}`, content: Buffer.alloc(500_000, i) }));
    entries.push({ name: '../evil', content: 'x' });
    await assert.rejects(apply(fresh(), entries, { media: 'gzip' }), kind('InvalidArgument', '"../evil"'));
    assert.equal(openFds(), fdsBefore);
  });

  it('replaces what is there: file over dir, dir over file, symlink over file, file over symlink; dir over dir merges', async () => {
    const dir = fresh();
    const outside = fresh();
    fs.writeFileSync(path.join(outside, 'target-of-link'), 'untouched');
    await apply(dir, [
      { name: 'a/', type: 'dir' },
      { name: 'a/child', content: 'x' },
      { name: 'b', content: 'file' },
      { name: 'c', content: 'file' },
      { name: 'd', type: 'symlink', linkname: path.join(outside, 'target-of-link') },
      { name: 'm/', type: 'dir', mode: 0o700, uid: 5 },
      { name: 'm/lower', content: 'from below' },
      { name: 'h1', content: 'shared' },
      { name: 'h2', type: 'link', linkname: 'h1' },
    ]);
    await apply(dir, [
      { name: 'a', content: 'now a file' },
      { name: 'b/', type: 'dir', mode: 0o750 },
      { name: 'c', type: 'symlink', linkname: '/nowhere' },
      { name: 'd', content: 'replaces the symlink, not its target' },
      { name: 'm/', type: 'dir', mode: 0o755, uid: 6, mtime: T + 100 },
      { name: 'm/upper', content: 'from above' },
      { name: 'h1', content: 'replaced' },
    ]);
    const got = await listTree(dir, { root: false });
    const find = (p: string) => got.find((l) => l.startsWith(`${p} `)) ?? '(missing)';
    assert.match(find('/a'), /^\/a file 0644 .* size=10 /);
    assert.equal(find('/a/child'), '(missing)');
    assert.match(find('/b'), /^\/b dir 0750 /);
    assert.match(find('/c'), /^\/c symlink .* -> \/nowhere/);
    assert.match(find('/d'), /^\/d file /);
    assert.equal(fs.readFileSync(path.join(outside, 'target-of-link'), 'utf8'), 'untouched');
    assert.match(find('/m'), new RegExp(`^/m dir 0755 6:0 mtime=${T + 100}`));
    assert.match(find('/m/lower'), /file/);
    assert.match(find('/m/upper'), /file/);
    // A replaced hardlinked file gets a new inode: its other name keeps the old content.
    assert.equal(fs.readFileSync(path.join(dir, 'h1'), 'utf8'), 'replaced');
    assert.equal(fs.readFileSync(path.join(dir, 'h2'), 'utf8'), 'shared');
  });

  it('applies whiteouts to lower content only: files, whole directories, anywhere in the tar', async () => {
    const dir = fresh();
    await apply(dir, [
      { name: 'etc/', type: 'dir' },
      { name: 'etc/a', content: 'a' },
      { name: 'etc/b', content: 'b' },
      { name: 'usr/', type: 'dir' },
      { name: 'usr/share/doc/x', content: 'x' },
      { name: 'link', type: 'symlink', linkname: '/usr' },
      { name: 'keep', content: 'k' },
    ]);
    await apply(dir, [
      { name: 'etc/.wh.a' },
      { name: '.wh.usr' },
      { name: '.wh.link' },
      { name: 'etc/new', content: 'n' },
      { name: 'etc/.wh.new' }, // this layer's own file survives its whiteout
      { name: 'nowhere/.wh.x' }, // nothing to delete, nothing created
      { name: 'etc/.wh.missing' },
    ]);
    assert.deepEqual(
      (await listTree(dir, { root: false })).map((l) => l.slice(0, l.indexOf(' '))),
      ['/etc', '/etc/b', '/etc/new', '/keep'],
    );
  });

  it('empties opaque directories of lower content only, wherever the marker is in the tar', async () => {
    const lower: TarEntry[] = [
      { name: 'o1/', type: 'dir' },
      { name: 'o1/old', content: 'old' },
      { name: 'o1/sub/old', content: 'old' },
      { name: 'o2/', type: 'dir' },
      { name: 'o2/old', content: 'old' },
      { name: 'o2/sub/', type: 'dir' },
      { name: 'o2/sub/old', content: 'old' },
      { name: 'o3/', type: 'dir' },
      { name: 'o3/old', content: 'old' },
      { name: 'plain/', type: 'dir' },
      { name: 'plain/old', content: 'old' },
    ];
    const dir = fresh();
    await apply(dir, lower);
    await apply(dir, [
      // marker first
      { name: 'o1/', type: 'dir' },
      { name: 'o1/.wh..wh..opq' },
      { name: 'o1/new', content: 'new' },
      // marker last: entries of this layer written before it survive, merged subdirs lose lower content
      { name: 'o2/', type: 'dir' },
      { name: 'o2/new', content: 'new' },
      { name: 'o2/sub/', type: 'dir' },
      { name: 'o2/sub/new', content: 'new' },
      { name: 'o2/.wh..wh..opq' },
      // marker between, and twice
      { name: 'o3/a', content: 'a' },
      { name: 'o3/.wh..wh..opq' },
      { name: 'o3/b', content: 'b' },
      { name: 'o3/.wh..wh..opq' },
      { name: 'plain/new', content: 'new' },
    ]);
    assert.deepEqual(
      (await listTree(dir, { root: false })).map((l) => l.slice(0, l.indexOf(' '))),
      ['/o1', '/o1/new', '/o2', '/o2/new', '/o2/sub', '/o2/sub/new', '/o3', '/o3/a', '/o3/b', '/plain', '/plain/new', '/plain/old'],
    );
  });

  it('links hardlinks to files of this layer and of lower layers, and to devices created at the end', async () => {
    const dir = fresh();
    await apply(dir, [{ name: 'lower', content: 'from below', mode: 0o600, uid: 3 }]);
    await apply(dir, [
      { name: 'a', content: 'A' },
      { name: 'b', type: 'link', linkname: 'a' },
      { name: 'c', type: 'link', linkname: './b' },
      { name: 'to-lower', type: 'link', linkname: 'lower' },
      { name: 'p', type: 'fifo' },
      { name: 'q', type: 'link', linkname: 'p' },
      { name: 'r', type: 'link', linkname: 'q' },
    ]);
    const ino = (p: string) => fs.lstatSync(path.join(dir, p)).ino;
    assert.equal(ino('a'), ino('b'));
    assert.equal(ino('a'), ino('c'));
    assert.equal(ino('to-lower'), ino('lower'));
    assert.equal(fs.lstatSync(path.join(dir, 'to-lower')).uid, 3);
    assert.equal(ino('p'), ino('q'));
    assert.equal(ino('p'), ino('r'));
    assert.ok(fs.lstatSync(path.join(dir, 'r')).isFIFO());
    await assert.rejects(
      apply(dir, [{ name: 'x', type: 'link', linkname: 'missing' }]),
      kind('InvalidArgument', '"missing" does not exist'),
    );
    await assert.rejects(
      apply(dir, [
        { name: 'd/', type: 'dir' },
        { name: 'x', type: 'link', linkname: 'd' },
      ]),
      kind('InvalidArgument', 'is a directory'),
    );
  });

  it('gives files the owner in the header even below a set-group-ID directory', async () => {
    const dir = fresh();
    await apply(dir, [{ name: 'shared/', type: 'dir', mode: 0o2775, gid: 50 }]);
    await apply(dir, [
      { name: 'shared/root-file', content: 'x', gid: 0 },
      { name: 'shared/group-file', content: 'x', gid: 50 },
      { name: 'shared/link', type: 'symlink', linkname: 'root-file', gid: 0 },
      { name: 'shared/sub/', type: 'dir', gid: 0, mode: 0o755 },
      { name: 'shared/implicit/file', content: 'x', gid: 0 },
    ]);
    const gid = (p: string) => fs.lstatSync(path.join(dir, p)).gid;
    assert.equal(gid('shared/root-file'), 0);
    assert.equal(gid('shared/group-file'), 50);
    assert.equal(gid('shared/link'), 0);
    assert.equal(gid('shared/sub'), 0);
    assert.equal(fs.statSync(path.join(dir, 'shared/sub')).mode & 0o7777, 0o755);
    assert.equal(gid('shared/implicit/file'), 0);
  });

  it('reads long names, long link targets and large ids from PAX and GNU headers, and fractional PAX mtimes', async () => {
    const dir = fresh();
    const long = `${'d'.repeat(150)}/${'f'.repeat(200)}`;
    const gnu = `${'g'.repeat(150)}/${'h'.repeat(120)}`;
    const target = `/${'t'.repeat(250)}`;
    await apply(dir, [
      { name: long, content: 'pax' },
      { name: gnu, content: 'gnu', longName: 'gnu' },
      { name: 'sym', type: 'symlink', linkname: target },
      { name: 'ids', content: 'x', uid: 3_000_000, gid: 3_000_001 },
      { name: 'frac', content: 'x', pax: { mtime: '1700000000.5' } },
      { name: 'ünïcødé/名前', content: 'utf-8' },
    ]);
    assert.equal(fs.readFileSync(path.join(dir, long), 'utf8'), 'pax');
    assert.equal(fs.readFileSync(path.join(dir, gnu), 'utf8'), 'gnu');
    assert.equal(fs.readlinkSync(path.join(dir, 'sym')), target);
    assert.equal(fs.statSync(path.join(dir, 'ids')).uid, 3_000_000);
    assert.equal(fs.statSync(path.join(dir, 'ids')).gid, 3_000_001);
    assert.equal(fs.statSync(path.join(dir, 'frac')).mtimeMs, 1_700_000_000_500);
    assert.equal(fs.readFileSync(path.join(dir, 'ünïcødé/名前'), 'utf8'), 'utf-8');
  });

  it('sets only the xattrs a layer may set', async () => {
    const dir = fresh();
    await apply(dir, [
      {
        name: 'f',
        content: 'x',
        xattrs: {
          'user.ok': 'yes',
          'trusted.ok': Buffer.from([0, 1, 255]),
          'trusted.overlay.opaque': 'y',
          'trusted.overlay.redirect': '/etc',
          'security.selinux': 'system_u:object_r:bin_t:s0',
          'system.posix_acl_access': 'junk',
        },
      },
      { name: 'l', type: 'symlink', linkname: 'f', xattrs: { 'user.not-on-symlinks': 'x', 'trusted.on-symlink': 'ok' } },
      { name: 'sp ace', content: 'x', xattrs: { 'user.with space': 'v\nw' } },
    ]);
    const got = await listTree(dir, { root: false });
    assert.match(
      got.find((l) => l.startsWith('/f '))!,
      / xattrs=\{trusted\.ok=0sAAH\/,user\.ok=0seWVz\}$/,
    );
    assert.match(
      got.find((l) => l.startsWith('/l '))!,
      / xattrs=\{trusted\.on-symlink=0sb2s=\}$/,
    );
    assert.match(
      got.find((l) => l.startsWith('/sp ace '))!,
      / xattrs=\{user\.with space=0sdgp3\}$/,
    );
  });

  it('as rootless: refuses device nodes, creates fifos, skips trusted.* xattrs', async () => {
    const dir = fresh();
    const applier = new TarApplier({ rootless: true });
    await apply(
      dir,
      [
        { name: 'p', type: 'fifo' },
        { name: 'f', content: 'x', xattrs: { 'trusted.x': 'y', 'user.x': 'y' } },
      ],
      { applier },
    );
    assert.ok(fs.lstatSync(path.join(dir, 'p')).isFIFO());
    const got = await listTree(dir, { root: false });
    assert.match(
      got.find((l) => l.startsWith('/f '))!,
      / xattrs=\{user\.x=0seQ==\}$/,
    );
    await assert.rejects(
      apply(dir, [{ name: 'dev/null', type: 'char', devmajor: 1, devminor: 3 }], { applier }),
      kind('InvalidArgument', '"dev/null"'),
    );
  });

  it('applies a layer of many small and large files exactly', async () => {
    const entries: TarEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const size = i % 97 === 0 ? 70_000 + i * 13 : (i * 7919) % 5000;
      entries.push({
        name: `d${i % 37}/sub${i % 5}/f${i}`,
        content: Buffer.alloc(size, `${i}`),
        mode: i % 2 ? 0o644 : 0o755,
        mtime: T + i,
      });
    }
    const dir = fresh();
    const result = await apply(dir, entries, { media: 'gzip', applier: new TarApplier({ concurrency: 4, smallFileSize: 1024 }) });
    assert.equal(result.entries, entries.length);
    for (const e of entries) {
      const p = path.join(dir, e.name as string);
      const st = fs.statSync(p);
      assert.equal(st.size, (e.content as Buffer).length, e.name as string);
      assert.equal(st.mode & 0o777, e.mode);
      assert.equal(st.mtimeMs, e.mtime! * 1000);
      assert.ok(fs.readFileSync(p).equals(e.content as Buffer), e.name as string);
    }
  });
});
