// `gantry volume create|ls|inspect|rm|prune` against a real gantryd, and
// what containers do to volumes: rm refused while any container uses one
// (running or stopped, also after a gantryd SIGKILL), prune removing only
// unused ones, anonymous volumes gone with `rm -v` and `--rm` and kept by a
// plain `rm`, volume events.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suiteCleanup } from '../../helpers/tmp';
import { VolumeSuite } from './harness';

describe('gantry volume commands (real daemon, runc)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  const t = new VolumeSuite(cleanup);

  it('create, ls (-q, --json, filters), inspect in Docker shape, rm; create of an existing name is a no-op', async () => {
    assert.equal((await t.ok(['volume', 'create', '--label', 'team=web', 'v1'])).stdout, 'v1\n');
    assert.equal((await t.ok(['volume', 'create', 'v1'])).stdout, 'v1\n', 'an existing name is returned as is');
    const generated = (await t.ok(['volume', 'create'])).stdout.trim();
    assert.match(generated, /^[0-9a-f]{64}$/);

    const ls = await t.ok(['volume', 'ls']);
    const lines = ls.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^DRIVER +VOLUME NAME$/);
    assert.ok(
      lines.some((l) => /^local +v1$/.test(l)),
      ls.stdout,
    );
    assert.deepEqual((await t.volumeNames()).sort(), [generated, 'v1'].sort());
    const array = JSON.parse((await t.ok(['volume', 'ls', '--json'])).stdout) as { Name: string }[];
    assert.deepEqual(array.map((v) => v.Name).sort(), [generated, 'v1'].sort());
    // Docker's --format json: one object per line.
    const jsonLines = (await t.ok(['volume', 'ls', '--format', 'json'])).stdout.trim().split('\n');
    assert.deepEqual(jsonLines.map((l) => (JSON.parse(l) as { Name: string }).Name).sort(), [generated, 'v1'].sort());
    assert.equal(
      (await t.ok(['volume', 'ls', '--filter', 'name=v1', '--format', '{{.Name}} {{.Driver}} {{.Label "team"}}'])).stdout,
      'v1 local web\n',
    );
    assert.match(
      (await t.ok(['volume', 'ls', '--filter', 'name=v1', '--format', 'table {{.Name}}\t{{.Links}}'])).stdout,
      /^VOLUME NAME +LINKS\nv1 +0\n$/,
    );
    assert.equal((await t.ok(['volume', 'ls', '-q', '--filter', 'label=team=web'])).stdout, 'v1\n');
    assert.equal((await t.ok(['volume', 'ls', '-q', '--filter', 'label=team'])).stdout, 'v1\n');
    assert.equal((await t.ok(['volume', 'ls', '-q', '--filter', 'name=v'])).stdout, 'v1\n');
    assert.equal((await t.ok(['volume', 'ls', '-q', '--filter', 'dangling=false'])).stdout, '');

    const v = await t.inspectVolume('v1');
    assert.equal(v.Name, 'v1');
    assert.deepEqual(v.Labels, { team: 'web' });
    assert.equal(v.Mountpoint, t.dataDir('v1'));
    assert.ok(fs.statSync(v.Mountpoint).isDirectory());
    const record = JSON.parse(fs.readFileSync(path.join(t.daemon.root, 'volumes', 'v1', 'volume.json'), 'utf8')) as { driver: string };
    assert.equal(record.driver, 'local');

    assert.equal((await t.ok(['volume', 'rm', 'v1', generated])).stdout, `v1\n${generated}\n`);
    assert.deepEqual(await t.volumeNames(), []);
    assert.ok(!fs.existsSync(path.join(t.daemon.root, 'volumes', 'v1')));
    const missing = await t.cli(['volume', 'rm', 'v1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such volume: v1/);
    await t.ok(['volume', 'rm', '-f', 'v1']);
  });

  it('hostile names and unknown options are refused, and nothing is made', async () => {
    for (const name of ['../escape', 'a/b', '.hidden', '-x', 'x', 'a\nb']) {
      const r = await t.cli(['volume', 'create', '--', name]);
      assert.notEqual(r.code, 0, name);
      assert.match(r.stderr, /invalid volume name/, name);
    }
    const opt = await t.cli(['volume', 'create', '-o', 'size=1g', 'sized']);
    assert.notEqual(opt.code, 0);
    assert.match(opt.stderr, /invalid option key: "size"/);
    const run = await t.run('-v', '../etc:/x', t.image, 'true');
    assert.equal(run.code, 125);
    assert.match(run.stderr, /absolute host path/);
    assert.deepEqual(fs.readdirSync(path.join(t.daemon.root, 'volumes')), []);
    assert.ok(!fs.existsSync(path.join(t.daemon.root, 'escape')));
  });

  it('rm is refused while a container uses the volume, running or stopped, also with -f; then it goes', async () => {
    const id = (await t.ok(['create', '--name', 'holder', '--network', 'none', '-v', 'used:/u', t.image, 'true'])).stdout.trim();
    for (const args of [
      ['volume', 'rm', 'used'],
      ['volume', 'rm', '-f', 'used'],
    ]) {
      const r = await t.cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, new RegExp(`volume is in use - \\[${id}\\]`));
    }
    assert.deepEqual((await t.inspectVolume('used')).UsedBy, ['holder']);
    await t.ok(['volume', 'prune', '-a', '-f']);
    assert.deepEqual(await t.volumeNames(), ['used'], 'prune leaves a volume in use');
    await t.ok(['rm', 'holder']);
    assert.deepEqual(await t.volumeNames(), ['used'], 'a named volume outlives its container');
    await t.ok(['volume', 'rm', 'used']);
  });

  it('after a gantryd SIGKILL and restart, a volume used by a stopped container is still refused', async () => {
    const id = (await t.ok(['create', '--name', 'survivor', '--network', 'none', '-v', 'kept:/k', t.image, 'true'])).stdout.trim();
    await t.daemon.kill();
    await t.daemon.start();
    const r = await t.cli(['volume', 'rm', 'kept']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`volume is in use - \\[${id}\\]`));
    await t.ok(['rm', 'survivor']);
    await t.ok(['volume', 'rm', 'kept']);
  });

  it('prune removes only unused anonymous volumes, -a unused named ones too, and says what it freed', async () => {
    await t.ok(['volume', 'create', 'spare']);
    await t.ok(['create', '--name', 'user', '--network', 'none', '-v', 'busy:/b', t.image, 'true']);
    // An anonymous volume left behind by a plain rm, with 6 bytes in it.
    await t.ok([
      'run',
      '--name',
      'anon',
      '--network',
      'none',
      '-v',
      '/scratch',
      t.image,
      'sh',
      '-c',
      'printf 12345 > /scratch/f; echo > /scratch/g',
    ]);
    await t.ok(['rm', 'anon']);
    const names = await t.volumeNames();
    const anon = names.find((n) => /^[0-9a-f]{64}$/.test(n));
    assert.ok(anon, names.join(','));

    const prune = await t.ok(['volume', 'prune', '-f']);
    assert.equal(prune.stdout, `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 6B\n`);
    assert.deepEqual((await t.volumeNames()).sort(), ['busy', 'spare']);
    const all = await t.ok(['volume', 'prune', '-a', '-f', '--json']);
    assert.deepEqual(JSON.parse(all.stdout), { removed: ['spare'], reclaimedBytes: 0 });
    assert.deepEqual(await t.volumeNames(), ['busy']);
  });

  it("anonymous volumes from the image's VOLUME: rm -v and --rm remove them, a plain rm keeps them", async () => {
    await t.ok(['create', '--name', 'img-a', '--network', 'none', t.volImage, 'true']);
    const [mount] = (await t.mounts('img-a')).filter((m) => m.Destination === '/vol');
    assert.equal(mount.Type, 'volume');
    assert.match(mount.Name ?? '', /^[0-9a-f]{64}$/);
    assert.equal(mount.Source, t.dataDir(mount.Name!));
    assert.deepEqual(t.listData(mount.Name!), ['seed.txt'], 'filled from the image at create');
    await t.ok(['rm', '-v', 'img-a']);
    assert.deepEqual(await t.volumeNames(), []);

    await t.ok(['create', '--name', 'img-b', '--network', 'none', t.volImage, 'true']);
    await t.ok(['rm', 'img-b']);
    assert.equal((await t.volumeNames()).length, 1, 'plain rm keeps the anonymous volume');
    await t.ok(['volume', 'prune', '-f']);

    const run = await t.run(t.volImage, 'cat', '/vol/seed.txt');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'seeded\n');
    assert.deepEqual(await t.volumeNames(), [], '--rm removed its anonymous volume');

    // A mount at the VOLUME's path replaces it: no anonymous volume.
    await t.ok(['create', '--name', 'img-c', '--network', 'none', '-v', 'mine:/vol', t.volImage, 'true']);
    assert.deepEqual(await t.volumeNames(), ['mine']);
    await t.ok(['rm', '-v', 'img-c']);
    assert.deepEqual(await t.volumeNames(), ['mine'], 'rm -v leaves named volumes');
  });

  it('--opt type/device/o: mounted at first use, seen by the container, unmounted at rm; ls -s shows size and users', async () => {
    await t.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m,mode=0750', 'tv']);
    const data = t.dataDir('tv');
    const r = await t.run('-v', 'tv:/t', t.image, 'sh', '-c', 'grep " /t " /proc/mounts; printf abc > /t/f');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tmpfs \/t tmpfs .*size=1024k.*mode=750/);
    assert.ok(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${data} `), 'mounted on _data');
    await t.ok(['create', '--name', 'tv-user', '--network', 'none', '-v', 'tv:/t', t.image, 'true']);
    const ls = await t.ok(['volume', 'ls', '-s']);
    assert.match(ls.stdout, /^DRIVER +VOLUME NAME +LINKS +SIZE\n/);
    assert.match(ls.stdout, /\nlocal +tv +1 +3B\n/);
    await t.ok(['rm', 'tv-user']);
    await t.ok(['volume', 'rm', 'tv']);
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${data} `), 'unmounted');
    assert.ok(!fs.existsSync(path.join(t.daemon.root, 'volumes', 'tv')));
  });

  it('publishes volume create and destroy events', async () => {
    await t.ok(['volume', 'create', 'evt']);
    await t.ok(['volume', 'rm', 'evt']);
    const client = t.daemon.client();
    const topics: string[] = [];
    try {
      for await (const m of client.events.subscribe({ since: 0, topics: ['/volumes/'], noFollow: true })) {
        if (m.kind?.$case === 'event' && m.kind.value.id === 'evt') topics.push(m.kind.value.topic);
      }
    } finally {
      client.close();
    }
    assert.deepEqual(topics, ['/volumes/create', '/volumes/destroy']);
  });
});
