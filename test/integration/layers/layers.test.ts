// The layer explorer's daemon side against real pulls: an image whose
// layers add, change and delete files — whiteouts, opaque directories, a
// path deleted and made again — pushed to the test registry and pulled by
// gantryd on overlayfs and on the native snapshotter. Each layer's A/C/D
// listing must equal what the layer tars say, computed here on our own by
// reading the blobs; `gantry history` prints Docker's columns; a layer's
// files read through the files service, and writes are refused.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { ChangeKind, type RuntimeClient } from '../../../runtime/client/index';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { HISTORY, layeredBlobs, pushLayeredImage } from '../../helpers/layeredImage';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

/** One layer's A/C/D as the tar says it, over the tree the lower tars made (our own reading, not the daemon's code). */
async function expectedChanges(blobs: Buffer[]): Promise<string[][]> {
  const tree = new Map<string, boolean>(); // path → is a directory
  const out: string[][] = [];
  for (const blob of blobs) {
    const entries: { path: string; dir: boolean }[] = [];
    const extract = tar.extract();
    const done = (async () => {
      for await (const e of extract) {
        entries.push({ path: '/' + e.header.name.replace(/\/$/, ''), dir: e.header.type === 'directory' });
        e.resume();
      }
    })();
    extract.end(zlib.gunzipSync(blob));
    await done;
    const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
    const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
    const under = (dir: string) => [...tree.keys()].filter((p) => p.startsWith(dir === '/' ? '/' : `${dir}/`));
    const own = new Set(entries.filter((e) => !base(e.path).startsWith('.wh.')).map((e) => e.path));
    const changes = new Map<string, string>();
    const removals: string[] = [];
    for (const e of entries) {
      const name = base(e.path);
      if (name === '.wh..wh..opq') {
        const dir = dirOf(e.path);
        for (const p of under(dir)) {
          removals.push(p);
          if (dirOf(p) === dir && !own.has(p)) changes.set(p, 'D');
        }
      } else if (name.startsWith('.wh.')) {
        const p = `${dirOf(e.path) === '/' ? '' : dirOf(e.path)}/${name.slice(4)}`;
        changes.set(p, 'D');
        removals.push(p, ...under(p));
      } else {
        changes.set(e.path, tree.has(e.path) ? 'C' : 'A');
      }
    }
    for (const p of removals) tree.delete(p);
    for (const e of entries) if (own.has(e.path)) tree.set(e.path, e.dir);
    out.push([...changes].map(([p, k]) => `${k} ${p}`).sort((a, b) => a.slice(2).localeCompare(b.slice(2))));
  }
  return out;
}

const LETTER: Record<number, string> = {
  [ChangeKind.CHANGE_KIND_ADDED]: 'A',
  [ChangeKind.CHANGE_KIND_MODIFIED]: 'C',
  [ChangeKind.CHANGE_KIND_DELETED]: 'D',
};

describe('layers: history, per-layer changes and a layer’s files', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let blobs: Buffer[];
  let image: string;
  let expected: string[][];

  before(async () => {
    registry = await startRegistry({ cleanup });
    blobs = layeredBlobs();
    await pushLayeredImage(registry, 'gantry-test/layered:1');
    image = `${registry.host}/gantry-test/layered:1`;
    expected = await expectedChanges(blobs);
  });

  async function pulled(args: string[]): Promise<{ daemon: TestDaemon; client: RuntimeClient }> {
    const daemon = await startDaemon(cleanup, args);
    const client = daemon.client();
    cleanup.defer(() => client.close());
    for await (const _ of client.images.pull({ reference: image })) {
      // progress is not under test here
    }
    return { daemon, client };
  }

  for (const [snapshotter, source] of [
    ['overlayfs', 'snapshot'],
    ['native', 'tar'],
  ] as const) {
    it(`${snapshotter}: each layer's A/C/D equals what its tar says`, async () => {
      const { client } = await pulled(['--snapshotter', snapshotter]);
      const { layers } = await client.images.layers(image);
      assert.equal(layers.length, 3);
      assert.deepEqual(
        layers.map((l) => l.createdBy),
        [HISTORY[0].created_by, HISTORY[2].created_by, HISTORY[4].created_by],
      );
      for (let i = 0; i < layers.length; i++) {
        const r = await client.images.layerChanges(image, i);
        assert.equal(r.source, source);
        assert.deepEqual(
          r.changes.map((c) => `${LETTER[c.kind]} ${c.path}`),
          expected[i],
          `layer ${i}`,
        );
      }
      // The spot checks a reader can follow: the opaque directory deleted app/sub, the whiteouts hosts and gone.
      assert.ok(expected[1].includes('D /app/sub') && expected[1].includes('D /etc/hosts') && expected[1].includes('D /gone'));
      assert.ok(expected[2].includes('A /gone') && expected[2].includes('A /etc/hosts') && expected[2].includes('D /app/fresh'));
      await assert.rejects(client.images.layerChanges(image, 3), (e) => kindOf(e) === 'InvalidArgument');
    });

    it(`${snapshotter}: a layer's files read as the tree up to it, and cannot be written`, async () => {
      const { daemon, client } = await pulled(['--snapshotter', snapshotter]);
      const layer = (index: number) => ({ layer: { image, index } });
      assert.equal((await client.files.readFile(layer(0), '/etc/passwd')).data.toString(), 'root:x:0:0:root:/root:/bin/sh\n');
      assert.match((await client.files.readFile(layer(1), '/etc/passwd')).data.toString(), /^user:/m);
      // The link resolves inside the layer's tree, to its passwd.
      assert.match((await client.files.readFile(layer(1), '/link')).data.toString(), /^user:/m);
      await assert.rejects(client.files.readFile(layer(1), '/etc/hosts'), (e) => kindOf(e) === 'NotFound');
      assert.equal((await client.files.readFile(layer(2), '/etc/hosts')).data.toString(), '127.0.0.1 again\n');
      assert.deepEqual((await client.files.readDirectory(layer(1), '/app')).map((e) => e.name).sort(), ['a', 'fresh']);
      await assert.rejects(client.files.writeFile(layer(1), '/etc/new', Buffer.from('x')), (e: Error) => {
        assert.equal(kindOf(e), 'FailedPrecondition');
        assert.match(e.message, /layer 1 of image .* read-only/);
        return true;
      });
      await assert.rejects(client.files.delete(layer(0), '/etc/passwd'), /read-only/);
      assert.equal((await client.files.readFile(layer(0), '/etc/passwd')).data.toString(), 'root:x:0:0:root:/root:/bin/sh\n');
      // Every merged view mounted for a call was taken down after it.
      const views = path.join(daemon.state, 'layers');
      assert.deepEqual(fs.existsSync(views) ? fs.readdirSync(views) : [], []);
      assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(views), false);
    });
  }

  it('gantry history prints Docker’s columns: newest first, <missing> below the top, empty layers at 0B', async () => {
    const { daemon, client } = await pulled([]);
    const id = (await client.images.inspect(image)).image!.id;
    const short = id.slice('sha256:'.length, 'sha256:'.length + 12);
    const r = await daemon.cli(['history', image]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.equal(lines.length, 1 + HISTORY.length);
    const rows = lines.slice(1);
    assert.ok(rows[0].startsWith(`${short} `), rows[0]);
    for (const row of rows.slice(1)) assert.ok(row.startsWith('<missing> '), row);
    // Newest first: COPY (two files, 14 and 16 bytes), CMD (empty), RUN, ENV (empty), ADD.
    assert.match(rows[0], /COPY gone \/gone # buildkit\s+30B\s*$/);
    assert.match(rows[1], /CMD \["sh"\]\s+0B\s+buildkit\.dockerfile\.v0$/);
    assert.match(rows[3], /ENV PATH=.*\s0B\s*$/);
    // Commands are cut at 45 characters, the last one "…".
    const cut = `${HISTORY[2].created_by.slice(0, 44)}…`;
    assert.ok(rows[2].includes(cut), rows[2]);
    const sizes = (await daemon.cli(['history', '--human=false', '--no-trunc', image])).stdout.trimEnd().split('\n');
    assert.match(sizes[0], /^IMAGE\s+CREATED AT\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(sizes[1], new RegExp(`^${id}\\s+2024-01-05T00:00:00Z\\s`));
    assert.ok(sizes[3].includes(HISTORY[2].created_by), 'not cut with --no-trunc');
    const layer0 = 'root:x:0:0:root:/root:/bin/sh\n'.length + '127.0.0.1 localhost\n'.length + 2 + 2 + 1 + '/etc/passwd'.length;
    assert.match(sizes[5], new RegExp(`\\s${layer0}\\s*$`));
    const quiet = (await daemon.cli(['image', 'history', '-q', image])).stdout.trimEnd().split('\n');
    assert.deepEqual(quiet, [short, '<missing>', '<missing>', '<missing>', '<missing>']);
    // --format: Docker's fields, a table header, and a bad field exits 2 naming it.
    const formatted = (await daemon.cli(['history', '--format', '{{.ID}}|{{.CreatedAt}}|{{.Comment}}', image])).stdout.split('\n');
    assert.match(formatted[1], /^<missing>\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|buildkit\.dockerfile\.v0$/);
    assert.ok(formatted[0].startsWith(`${short}|2024-01-05T00:00:00Z|`), formatted[0]);
    const table = (await daemon.cli(['history', '--format', 'table {{.ID}}\t{{.Size}}', image])).stdout.split('\n');
    assert.match(table[0], /^IMAGE\s+SIZE$/);
    assert.match(table[1], new RegExp(`^${short}\\s+30B$`));
    const bad = await daemon.cli(['history', '--format', '{{.Nope}}', image]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Nope/);
  });
});
