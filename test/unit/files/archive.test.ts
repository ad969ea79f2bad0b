// Tar streams out of and into a RootedFs (gantry cp's daemon side): what a
// path packs to, what an archive extracts to, and hostile archives refused
// with nothing written — links in the tree or in the archive never lead
// onto the host.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { extractArchive, packArchive, RootedFs, type FileInfo } from '../../../runtime/files/index';
import { buildTar } from '../../helpers/tarBuilder';

interface Listed {
  name: string;
  type: string;
  mode: number;
  uid: number;
  linkname?: string;
  content?: string;
}

async function list(stream: Readable): Promise<Listed[]> {
  const out: Listed[] = [];
  const ex = tar.extract();
  stream.pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({
      name: h.name,
      type: h.type,
      mode: h.mode,
      uid: h.uid,
      ...(h.linkname ? { linkname: h.linkname } : {}),
      ...(h.type === 'file' ? { content: Buffer.concat(chunks).toString() } : {}),
    });
  }
  return out;
}

describe('files/archive (pack and extract)', function () {
  this.timeout(30_000);
  let base: string;
  let root: string;
  let canary: string;
  let rfs: RootedFs;

  beforeEach(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-archive-'));
    root = path.join(base, 'root');
    canary = path.join(base, 'canary');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(path.join(root, 'app/sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'dst'));
    fs.mkdirSync(canary);
    fs.writeFileSync(path.join(canary, 'file'), 'host canary\n');
    fs.writeFileSync(path.join(root, 'etc/shadow'), 'container shadow\n');
    fs.writeFileSync(path.join(root, 'app/run.sh'), '#!/bin/sh\n');
    fs.chmodSync(path.join(root, 'app/run.sh'), 0o750);
    fs.writeFileSync(path.join(root, 'app/sub/a'), 'a\n');
    fs.linkSync(path.join(root, 'app/sub/a'), path.join(root, 'app/sub/hard'));
    fs.symlinkSync('/etc/shadow', path.join(root, 'app/shadow-link'));
    fs.symlinkSync('../../../../../..', path.join(root, 'climb'));
    fs.symlinkSync(canary, path.join(root, 'host-canary'));
    rfs = await RootedFs.open(root);
  });

  afterEach(async () => {
    await rfs.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  const packed = (p: string, opts: { follow?: boolean; name?: string } = {}) => {
    let info: FileInfo | undefined;
    let entries: Listed[] = [];
    return packArchive(rfs, p, opts, async (i, s) => {
      info = i;
      entries = await list(s);
    }).then(() => ({ info: info!, entries }));
  };
  const canaryIntact = () => assert.deepEqual(fs.readdirSync(canary), ['file']);

  it('packs a directory named by its last component, links kept as links, hard links as hard links', async () => {
    const { info, entries } = await packed('/app');
    assert.equal(info.type, 'directory');
    const byName = new Map(entries.map((e) => [e.name.replace(/\/$/, ''), e]));
    assert.equal(entries[0].name.replace(/\/$/, ''), 'app');
    assert.equal(byName.get('app/run.sh')?.mode, 0o750);
    assert.equal(byName.get('app/run.sh')?.content, '#!/bin/sh\n');
    assert.equal(byName.get('app/shadow-link')?.type, 'symlink');
    assert.equal(byName.get('app/shadow-link')?.linkname, '/etc/shadow');
    const links = ['app/sub/a', 'app/sub/hard'].map((n) => byName.get(n)!);
    assert.deepEqual(links.map((l) => l.type).sort(), ['file', 'link']);
  });

  it('`dir/.` packs the content as `.`; a final link is a link unless followed, then its target under its own name', async () => {
    const { entries } = await packed('/app/.');
    assert.ok(
      entries.every((e) => e.name === './' || e.name === '.' || e.name.startsWith('./')),
      JSON.stringify(entries),
    );
    const link = await packed('/app/shadow-link');
    assert.deepEqual(
      link.entries.map((e) => [e.name, e.type, e.linkname]),
      [['shadow-link', 'symlink', '/etc/shadow']],
    );
    const followed = await packed('/app/shadow-link', { follow: true });
    assert.deepEqual(
      followed.entries.map((e) => [e.name, e.type, e.content]),
      [['shadow-link', 'file', 'container shadow\n']],
    );
    const renamed = await packed('/climb/etc/shadow', { name: 'copy' });
    assert.deepEqual(
      renamed.entries.map((e) => [e.name, e.content]),
      [['copy', 'container shadow\n']],
    );
  });

  it('a file with a trailing slash is not a directory; a missing path is NotFound', async () => {
    await assert.rejects(packed('/etc/shadow/'), (e) => /not a directory/.test((e as Error).message));
    await assert.rejects(packed('/nope'), (e) => kindOf(e) === 'NotFound');
  });

  it('extracts under a directory reached through links, inside the root, with the owner asked', async () => {
    const archive = buildTar([
      { name: 'new/', type: 'dir', mode: 0o751 },
      { name: 'new/file', content: 'hello', mode: 0o640, uid: 1234, gid: 1234 },
      { name: 'new/link', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'new/hard', type: 'link', linkname: 'new/file' },
    ]);
    const r = await extractArchive(rfs, '/climb/dst', Readable.from([archive]), { owner: { uid: 42, gid: 43 } });
    assert.equal(r.entries, 4);
    const file = path.join(root, 'dst/new/file');
    assert.equal(fs.readFileSync(file, 'utf8'), 'hello');
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    assert.equal(fs.statSync(file).uid, 42);
    assert.equal(fs.statSync(path.join(root, 'dst/new')).mode & 0o777, 0o751);
    assert.equal(fs.readlinkSync(path.join(root, 'dst/new/link')), '/etc/shadow');
    assert.equal(fs.statSync(path.join(root, 'dst/new/hard')).ino, fs.statSync(file).ino);
    assert.deepEqual(fs.readdirSync(path.join(root, 'dst')), ['new'], 'no staging directory left');
    canaryIntact();
  });

  it("keeps the archive's uid/gid with owner 'archive'", async () => {
    await extractArchive(rfs, '/dst', Readable.from([buildTar([{ name: 'f', content: 'x', uid: 1234, gid: 2345 }])]), {
      owner: 'archive',
    });
    const st = fs.statSync(path.join(root, 'dst/f'));
    assert.deepEqual([st.uid, st.gid], [1234, 2345]);
  });

  it('merges into existing directories, replaces files, refuses a directory over a file and the reverse', async () => {
    fs.mkdirSync(path.join(root, 'dst/d'));
    fs.writeFileSync(path.join(root, 'dst/d/keep'), 'keep');
    fs.writeFileSync(path.join(root, 'dst/d/over'), 'old');
    await extractArchive(
      rfs,
      '/dst',
      Readable.from([
        buildTar([
          { name: 'd/', type: 'dir' },
          { name: 'd/over', content: 'new' },
        ]),
      ]),
    );
    assert.equal(fs.readFileSync(path.join(root, 'dst/d/keep'), 'utf8'), 'keep');
    assert.equal(fs.readFileSync(path.join(root, 'dst/d/over'), 'utf8'), 'new');
    await assert.rejects(
      extractArchive(
        rfs,
        '/dst',
        Readable.from([
          buildTar([
            { name: 'x', content: '1' },
            { name: 'd', content: 'file over dir' },
          ]),
        ]),
      ),
      /cannot overwrite directory "\/dst\/d" with non-directory/,
    );
    assert.ok(!fs.existsSync(path.join(root, 'dst/x')), 'a refused copy writes nothing');
    await assert.rejects(
      extractArchive(rfs, '/dst/d', Readable.from([buildTar([{ name: 'keep/', type: 'dir' }])])),
      /cannot overwrite non-directory "\/dst\/d\/keep" with directory/,
    );
  });

  for (const [what, entries] of [
    [
      'a ".." name',
      [
        { name: 'ok', content: 'x' },
        { name: '../../escape', content: 'x' },
      ],
    ],
    [
      'an absolute name',
      [
        { name: 'ok', content: 'x' },
        { name: '/etc/evil', content: 'x' },
      ],
    ],
    [
      'a device node',
      [
        { name: 'ok', content: 'x' },
        { name: 'null', type: 'char', devmajor: 1, devminor: 3 },
      ],
    ],
    [
      'a file under a link of the archive',
      [
        { name: 'ok', content: 'x' },
        { name: 'out', type: 'symlink', linkname: '/' },
        { name: 'out/pwned', content: 'x' },
      ],
    ],
    [
      'a hard link to a file outside the archive',
      [
        { name: 'ok', content: 'x' },
        { name: 'h', type: 'link', linkname: '../etc/shadow' },
      ],
    ],
  ] as const) {
    it(`refuses ${what}, and writes nothing`, async () => {
      await assert.rejects(
        extractArchive(rfs, '/dst', Readable.from([buildTar(entries)])),
        (e) => kindOf(e) === 'InvalidArgument' || kindOf(e) === 'FailedPrecondition',
      );
      assert.deepEqual(fs.readdirSync(path.join(root, 'dst')), []);
      canaryIntact();
    });
  }

  it('a truncated archive writes nothing', async () => {
    const full = buildTar([{ name: 'big', content: Buffer.alloc(100_000, 1) }]);
    await assert.rejects(extractArchive(rfs, '/dst', Readable.from([full.subarray(0, 20_000)])));
    assert.deepEqual(fs.readdirSync(path.join(root, 'dst')), []);
  });

  it('a destination that is a link to the host is the root-relative path: not found', async () => {
    await assert.rejects(
      extractArchive(rfs, '/host-canary', Readable.from([buildTar([{ name: 'pwned', content: 'x' }])])),
      (e) => kindOf(e) === 'NotFound',
    );
    canaryIntact();
  });
});
