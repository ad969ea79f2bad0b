// The change walker's full mode (the native snapshotter: a whole tree
// compared with its parent) on plain directories, the tar writer's PAX
// records, the getfattr dump parser and the path order. Overlay upper dirs
// (whiteout devices, opaque xattrs) need root and are covered by
// test/integration/changes/.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { comparePaths, layerTar, listChanges } from '../../../runtime/changes/changes';
import { encodePax } from '../../../runtime/changes/tarWriter';
import { parseXattrDump } from '../../../runtime/changes/xattrDump';
import { decodePax } from '../../../runtime/unpack/xattrs';

const ctx = { signal: new AbortController().signal };
const bind = (source: string) => [{ type: 'bind', source, options: ['rbind', 'ro'] }];

describe('changes: the walker, the layer tar and their helpers', () => {
  let dir: string;
  let lower: string;
  let upper: string;

  beforeEach(async () => {
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gchanges-'));
    lower = path.join(dir, 'lower');
    upper = path.join(dir, 'upper');
    const write = (root: string, rel: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), content);
    };
    for (const root of [lower, upper]) {
      write(root, 'etc/passwd', 'root\n');
      write(root, 'etc/group', 'root\n');
      write(root, 'data/gone/x', 'x');
      write(root, 'data/keep', 'k');
      write(root, 'a/b/c/deep', 'd');
      fs.mkdirSync(path.join(root, 'etc/hosts-dir'), { recursive: true });
    }
    // Same times both sides, as the native snapshotter's copy keeps them.
    for (const rel of ['etc/passwd', 'etc/group', 'data/gone/x', 'data/keep', 'a/b/c/deep']) {
      const t = new Date('2024-01-01T00:00:00Z');
      fs.utimesSync(path.join(lower, rel), t, t);
      fs.utimesSync(path.join(upper, rel), t, t);
    }
    fs.appendFileSync(path.join(upper, 'etc/passwd'), 'me\n');
    fs.rmSync(path.join(upper, 'data/gone'), { recursive: true });
    write(upper, 'data/new', 'n');
    write(upper, 'a/b/c/deep', 'D');
    fs.mkdirSync(path.join(upper, 'proc'));
    fs.writeFileSync(path.join(upper, 'etc/resolv.conf'), '');
  });
  afterEach(() => fs.promises.rm(dir, { recursive: true, force: true }));

  const options = () => ({ scratch: path.join(dir, 'scratch'), mountpoints: ['/proc', '/etc/resolv.conf', '/'] });

  it('lists A/C/D against the parent, every change with its parent directories as C, mount points left out', async () => {
    const changes = await listChanges(ctx, { active: bind(upper), below: bind(lower) }, options());
    assert.deepEqual(
      changes.map((c) => `${c.kind} ${c.path}`),
      ['C /a', 'C /a/b', 'C /a/b/c', 'C /a/b/c/deep', 'C /data', 'D /data/gone', 'A /data/new', 'C /etc', 'C /etc/passwd'],
    );
    assert.deepEqual(
      changes.find((c) => c.path === '/data/new'),
      { kind: 'A', path: '/data/new', type: 'file', size: 1 },
    );
    assert.equal(changes.find((c) => c.path === '/data/gone')!.type, undefined);
  });

  it('an image with no layers below: everything is added', async () => {
    const changes = await listChanges(ctx, { active: bind(lower) }, options());
    assert.ok(changes.every((c) => c.kind === 'A'));
    assert.ok(changes.some((c) => c.path === '/etc/passwd'));
  });

  it('the layer tar carries the changes, a whiteout for a deletion and the parents of every entry', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of layerTar(ctx, { active: bind(upper), below: bind(lower) }, options())) chunks.push(chunk);
    const extract = tar.extract();
    Readable.from([Buffer.concat(chunks)]).pipe(extract);
    const entries: string[] = [];
    for await (const entry of extract) {
      entries.push(`${entry.header.type} ${entry.header.name}`);
      entry.resume();
    }
    assert.deepEqual(entries, [
      'directory a/',
      'directory a/b/',
      'directory a/b/c/',
      'file a/b/c/deep',
      'directory data/',
      'file data/.wh.gone',
      'file data/new',
      'directory etc/',
      'file etc/passwd',
    ]);
  });

  it('PAX records count bytes, so binary xattr values and UTF-8 names survive', () => {
    const value = Buffer.from([0x01, 0x00, 0xff, 0x0a, 0xc3]);
    const records = decodePax(
      encodePax([
        ['SCHILY.xattr.security.capability', value],
        ['path', Buffer.from('é/ü')],
      ]),
    );
    assert.deepEqual(Buffer.from(records['SCHILY.xattr.security.capability'], 'latin1'), value);
    assert.equal(Buffer.from(records.path, 'latin1').toString('utf8'), 'é/ü');
  });

  it('reads getfattr dumps: the root, octal-escaped names, hex values', () => {
    const map = parseXattrDump(
      '# file: .\nuser.root=0x31\n\n# file: a\\040b\ntrusted.overlay.opaque=0x79\n\n# file: d/\\303\\251\nuser.x="v"\n',
    );
    assert.equal(map.get('')!.get('user.root')!.toString(), '1');
    assert.equal(map.get('a b')!.get('trusted.overlay.opaque')!.toString(), 'y');
    assert.equal(map.get('d/é')!.get('user.x')!.toString(), 'v');
  });

  it('orders paths component by component, parents first', () => {
    assert.deepEqual(['a-b', 'a/b', 'a', 'a/b/c', 'b'].sort(comparePaths), ['a', 'a/b', 'a/b/c', 'a-b', 'b']);
  });
});
