// The CLI of a container's changes (diff, commit --change, export -o and to
// a pipe, import from a file, from - and from an http URL), hostile import
// tars refused with nothing recorded, and diff/commit on the native
// snapshotter (a full copy compared with its parent, no overlay upper dir).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { execStdout } from '../../helpers/containerExec';
import { buildTar, gzip } from '../../helpers/tarBuilder';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { containerWorld, runAttached, type ContainerWorld } from '../containers/harness';
import { CHANGE_SCRIPT, CHANGES_IMAGE, diffLines, EXPECTED_DIFF, tarNames } from './changesFixture';

describe('changes: the CLI, imports from a URL and stdin, hostile imports', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;
  let dir: string;

  before(async () => {
    world = await containerWorld(cleanup, CHANGES_IMAGE);
    dir = await makeTempDir('gchcli', cleanup);
  });

  const changed = async () => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    await execStdout(world.client, c.id, ['sh', '-c', CHANGE_SCRIPT]);
    return c;
  };

  it('gantry diff prints A/C/D lines; container diff too; commit -c/-m/-a prints the ID; --pause=false is accepted', async () => {
    const c = await changed();
    const out = await world.daemon.cli(['diff', c.id]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, EXPECTED_DIFF.map((l) => `${l}\n`).join(''));
    assert.equal((await world.daemon.cli(['container', 'diff', c.id])).stdout, out.stdout);

    const commit = await world.daemon.cli([
      'commit',
      '-m',
      'via cli',
      '-a',
      'Cli',
      '--pause=false',
      '-c',
      'ENTRYPOINT ["cat"]',
      '-c',
      'CMD ["/data/new.txt"]',
      c.id,
      'cli/committed',
    ]);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[a-f0-9]{64}\n$/);
    const run = await runAttached(world.client, { image: 'cli/committed', network: 'none' });
    cleanup.defer(() => world.client.containers.remove(run.container.id, true).catch(() => undefined));
    assert.equal(run.stdout, 'added\n');

    const bad = await world.daemon.cli(['commit', '-c', 'ONBUILD RUN true', c.id]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ONBUILD is not supported/);
  });

  it('gantry export -o writes a file, to a pipe without -o; import from the file, from - and from an http URL runs', async () => {
    const c = await changed();
    const file = path.join(dir, 'rootfs.tar');
    const exported = await world.daemon.cli(['export', '-o', file, c.id]);
    assert.equal(exported.code, 0, exported.stderr);
    const names = await tarNames(await fs.promises.readFile(file));
    assert.ok(names.includes('data/new.txt') && !names.includes('data/gone/'));
    const piped = await world.daemon.cli(['container', 'export', c.id]);
    assert.equal(piped.code, 0, piped.stderr);

    const fromFile = await world.daemon.cli(['import', '-c', 'CMD ["cat","/data/new.txt"]', file, 'cli/imported:file']);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const fromStdin = await world.daemon.cli(['image', 'import', '-m', 'from stdin', '-', 'cli/imported:stdin'], {
      input: gzip(await fs.promises.readFile(file)),
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal((await world.client.images.inspect('cli/imported:stdin')).history[0].comment, 'from stdin');

    const server = http.createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/rootfs.tar' }).end();
        return;
      }
      if (req.url !== '/rootfs.tar') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const fromUrl = await world.daemon.cli(['import', `${url}/moved`, 'cli/imported:url']);
    assert.equal(fromUrl.code, 0, fromUrl.stderr);
    assert.equal((await world.client.images.inspect('cli/imported:url')).history[0].comment, `Imported from ${url}/moved`);
    const missing = await world.daemon.cli(['import', `${url}/nope`, 'cli/imported:nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /HTTP 404/);

    for (const tag of ['file', 'stdin', 'url']) {
      const run = await runAttached(world.client, { image: `cli/imported:${tag}`, cmd: ['cat', '/data/new.txt'], network: 'none' });
      cleanup.defer(() => world.client.containers.remove(run.container.id, true).catch(() => undefined));
      assert.equal(run.stdout, 'added\n', tag);
    }
  });

  it('import refuses hostile tar entries as unpack does, and records nothing', async () => {
    const before = (await world.client.images.list()).map((i) => i.name).sort();
    const outside = path.join(dir, 'outside');
    const cases = [
      buildTar([{ name: '../escape', content: 'pwned' }]),
      buildTar([{ name: '/abs/escape', content: 'pwned' }]),
      buildTar([
        { name: 'link', type: 'symlink', linkname: outside },
        { name: 'link/escape', content: 'pwned' },
      ]),
    ];
    for (const tar of cases) {
      await assert.rejects(world.client.images.import({ reference: 'cli/hostile:v1' }, Readable.from([tar])), (e: Error) => {
        assert.equal(kindOf(e), 'InvalidArgument', e.message);
        return true;
      });
    }
    assert.ok(!fs.existsSync(path.join(outside, 'escape')));
    assert.ok(!fs.existsSync('/abs/escape'));
    assert.deepEqual((await world.client.images.list()).map((i) => i.name).sort(), before, 'no record written');
  });
});

describe('changes: the native snapshotter', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup, CHANGES_IMAGE, ['--snapshotter', 'native']);
  });

  it('diff lists the same changes as on overlay, and a commit runs with them', async () => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    assert.deepEqual(await diffLines(world.client, c.id), []);
    await execStdout(world.client, c.id, ['sh', '-c', CHANGE_SCRIPT]);
    assert.deepEqual(await diffLines(world.client, c.id), EXPECTED_DIFF);
    const image = await world.client.images.commit({ container: c.id, reference: 'native/committed' });
    const run = await runAttached(world.client, {
      image: image.name,
      cmd: ['sh', '-c', 'cat /data/replaced/new.txt; ls /data/gone /data/replaced/old.txt /etc/gantry-fixture 2>&1'],
      network: 'none',
    });
    cleanup.defer(() => world.client.containers.remove(run.container.id, true).catch(() => undefined));
    assert.equal(
      run.stdout,
      'fresh\nls: /data/gone: No such file or directory\nls: /data/replaced/old.txt: No such file or directory\nls: /etc/gantry-fixture: No such file or directory\n',
    );
  });
});
