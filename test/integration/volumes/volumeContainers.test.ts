// Volumes in containers against a real gantryd and runc: copy-up from the
// image on first use (owners, modes, links kept; not with nocopy; not into
// a volume that has content), two containers sharing one volume, a volume
// outliving its container, :ro enforced by the kernel, --volumes-from,
// --mount and its errors, and the files service rooted in a volume.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isNotFound } from '../../../runtime/errdefs/errdefs';
import { suiteCleanup } from '../../helpers/tmp';
import { eventually } from '../containers/harness';
import { VolumeSuite } from './harness';

describe('volumes in containers (real daemon, runc)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  const t = new VolumeSuite(cleanup);

  it("first use of an empty volume copies the image's content at the path, owners, modes and links kept", async () => {
    const run = await t.run(
      '-v',
      'filled:/data',
      t.volImage,
      'sh',
      '-c',
      'cat /data/app/config.txt; stat -c "%u:%g %a" /data /data/app/config.txt',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'from the image\n1000:1001 750\n1234:4321 640\n');

    const data = t.dataDir('filled');
    assert.deepEqual(t.listData('filled'), ['app', 'empty', 'escape', 'link', 'top.txt']);
    const root = fs.statSync(data);
    assert.deepEqual([root.uid, root.gid, root.mode & 0o7777], [1000, 1001, 0o750], 'the volume root takes the directory owner and mode');
    const config = fs.statSync(path.join(data, 'app/config.txt'));
    assert.deepEqual([config.uid, config.gid, config.mode & 0o7777], [1234, 4321, 0o640]);
    const dir = fs.statSync(path.join(data, 'app'));
    assert.deepEqual([dir.uid, dir.gid, dir.mode & 0o7777], [1234, 4321, 0o710]);
    assert.equal(fs.readlinkSync(path.join(data, 'link')), 'app/config.txt');
    assert.equal(fs.readlinkSync(path.join(data, 'escape')), '/etc/gantry-fixture', 'links are copied as links, never followed');

    // Not empty any more: a later container sees what the volume holds, not the image.
    await t.run('-v', 'filled:/data', t.volImage, 'rm', '/data/top.txt');
    const again = await t.run('-v', 'filled:/data', t.volImage, 'ls', '/data');
    assert.equal(again.stdout, 'app\nempty\nescape\nlink\n');

    const nocopy = await t.run('-v', 'bare:/data:nocopy', t.volImage, 'ls', '-A', '/data');
    assert.equal(nocopy.code, 0, nocopy.stderr);
    assert.equal(nocopy.stdout, '');
    assert.deepEqual(t.listData('bare'), []);
  });

  it('two containers share one volume: one writes, the other reads; the volume outlives both', async () => {
    await t.ok([
      'run',
      '-d',
      '--name',
      'writer',
      '--network',
      'none',
      '-v',
      'shared:/s',
      t.image,
      'sh',
      '-c',
      'echo from-writer > /s/msg; exec sleep 600',
    ]);
    const read = await eventually('the reader seeing the writer', async () => {
      const r = await t.run('-v', 'shared:/s', t.image, 'cat', '/s/msg');
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(read, 'from-writer\n');
    const users = await t.inspectVolume('shared');
    assert.deepEqual(users.UsedBy, ['writer']);
    await t.ok(['rm', '-f', '-v', 'writer']);
    assert.deepEqual(await t.volumeNames(), ['shared']);
    const later = await t.run('-v', 'shared:/s', t.image, 'cat', '/s/msg');
    assert.equal(later.stdout, 'from-writer\n');
  });

  it(':ro and --volumes-from CONTAINER[:ro] are enforced inside the container', async () => {
    const ro = await t.run('-v', 'rovol:/r:ro', t.image, 'sh', '-c', 'touch /r/x');
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.deepEqual(t.listData('rovol'), []);

    await t.ok([
      'create',
      '--name',
      'source',
      '--network',
      'none',
      '-v',
      'vf:/vf',
      '--mount',
      `type=bind,source=${t.dataDir('rovol')},target=/bound`,
      t.image,
      'true',
    ]);
    const rw = await t.run('--volumes-from', 'source', t.image, 'sh', '-c', 'echo shared > /vf/f && cat /vf/f && ls -d /bound');
    assert.equal(rw.code, 0, rw.stderr);
    assert.equal(rw.stdout, 'shared\n/bound\n');
    assert.deepEqual(t.listData('vf'), ['f']);
    const forcedRo = await t.run('--volumes-from', 'source:ro', t.image, 'sh', '-c', 'echo no > /vf/f');
    assert.notEqual(forcedRo.code, 0);
    assert.match(forcedRo.stderr, /Read-only file system/);
    const missing = await t.run('--volumes-from', 'nosuch', t.image, 'true');
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /nosuch/);
  });

  it("--mount type=volume|tmpfs works; bad --mount specs get Docker's errors and make nothing", async () => {
    const r = await t.run(
      '--mount',
      'source=mv,target=/m,volume-label=k=v',
      '--mount',
      'type=tmpfs,target=/t,tmpfs-size=1m',
      t.image,
      'sh',
      '-c',
      'echo x > /m/f; grep " /t " /proc/mounts',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tmpfs \/t tmpfs .*size=1024k/);
    assert.deepEqual((await t.inspectVolume('mv')).Labels, { k: 'v' });
    assert.deepEqual(t.listData('mv'), ['f']);

    const cases: [string, RegExp][] = [
      ['type=bind,target=/a', /field Source must not be empty/],
      ['type=volume,source=v', /target is required/],
      ['type=tmpfs,source=x,target=/a', /field Source must not be specified/],
      ['type=bind,source=/tmp,target=/a,volume-nocopy', /cannot mix 'volume-\*' options with mount type 'bind'/],
      ['type=weird,target=/a', /mount type unknown/],
      ['target=/a,colour=red', /unexpected key 'colour'/],
    ];
    for (const [spec, re] of cases) {
      const bad = await t.run('--mount', spec, t.image, 'true');
      assert.equal(bad.code, 125, spec);
      assert.match(bad.stderr, re, spec);
    }
    assert.deepEqual(await t.volumeNames(), ['mv']);
  });

  it('the files service browses a volume with its data directory as the root, links resolved inside it', async () => {
    await t.run('-v', 'browse:/data', t.volImage, 'ln', '-s', '../../../../etc', '/data/up');
    const client = t.daemon.client();
    try {
      const names = (await client.files.readDirectory({ volume: 'browse' }, '/')).map((e) => e.name).sort();
      assert.deepEqual(names, ['app', 'empty', 'escape', 'link', 'top.txt', 'up']);
      const { data } = await client.files.readFile({ volume: 'browse' }, '/link');
      assert.equal(data.toString(), 'from the image\n');
      // /etc/gantry-fixture and ../../../../etc resolve inside the volume, where they are not.
      for (const p of ['/escape', '/up/passwd']) {
        await assert.rejects(client.files.readFile({ volume: 'browse' }, p), (e: unknown) => isNotFound(e), p);
      }
      await client.files.writeFile({ volume: 'browse' }, '/new.txt', Buffer.from('written\n'));
      assert.equal(fs.readFileSync(path.join(t.dataDir('browse'), 'new.txt'), 'utf8'), 'written\n');
      await assert.rejects(client.files.readDirectory({ volume: 'nosuch' }, '/'), (e: unknown) => isNotFound(e));
    } finally {
      client.close();
    }
  });
});
