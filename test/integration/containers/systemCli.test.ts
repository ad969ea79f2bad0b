// `gantry system df` and `gantry system prune` against a real gantryd: the df
// numbers are checked against sizes the test adds up itself from the
// snapshot store (Snapshots.List/Usage), and prune removes exactly the stopped
// containers, unused networks and dangling images, keeping the rest.
import * as assert from 'node:assert/strict';
import type { RuntimeClient } from '../../../runtime/client';
import { humanSize } from '../../../runtime/cli/diskUsageReport';
import { suiteCleanup } from '../../helpers/tmp';
import { CliSuite } from './cliSuite';

interface DfRow {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

/** Sizes from the snapshot store: each image's layer chain, every distinct layer once, each container's writable layer. */
async function storeSizes(client: RuntimeClient) {
  const { snapshots } = await client.snapshots.list();
  const parent = new Map(snapshots.map((s) => [s.name, s.parent]));
  const size = async (key: string) => (await client.snapshots.usage(key)).size;
  const images = new Map<string, string[]>();
  for (const i of await client.images.list()) {
    const chain: string[] = [];
    for (let l = i.chainId; l; l = parent.get(l) ?? '') chain.push(l);
    images.set(i.id, chain);
  }
  const layers = new Set([...images.values()].flat());
  let layersSize = 0;
  for (const l of layers) layersSize += await size(l);
  const containers = new Map<string, number>();
  for (const c of await client.containers.list(true, [])) {
    const details = await client.containers.inspect(c.id);
    containers.set(c.name.replace(/^\//, ''), await size(details.snapshotKey));
  }
  const imageSize = async (id: string) => {
    let n = 0;
    for (const l of images.get(id) ?? []) n += await size(l);
    return n;
  };
  return { images, layersSize, containers, imageSize };
}

const pct = (part: number, whole: number) => (whole > 0 ? `${humanSize(part)} (${Math.trunc((part * 100) / whole)}%)` : humanSize(part));

describe('gantry system df and system prune (real daemon, runc, conmon)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  const t = new CliSuite(cleanup);

  const cli = async (...args: string[]) => {
    const r = await t.daemon.cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  it('df: images, containers (writable layers), volumes and build cache, as sizes from the store add up', async () => {
    await t.runDetached('--name', 'up', t.image, 'sleep', '300');
    const wrote = await t.daemon.cli(['run', '--name', 'wrote', t.image, 'sh', '-c', 'head -c 300000 /dev/urandom > /blob']);
    assert.equal(wrote.code, 0, wrote.stderr);
    const client = t.daemon.client();
    const store = await storeSizes(client);
    const wroteSize = store.containers.get('wrote') ?? 0;
    assert.ok(wroteSize >= 300_000, `the writable layer holds the 300 kB written: ${wroteSize}`);
    const upSize = store.containers.get('up') ?? 0;

    const rows = (await cli('system', 'df', '--format', 'json'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as DfRow);
    const byType = Object.fromEntries(rows.map((r) => [r.Type, r]));
    const [usedImage] = (await client.images.list()).filter((i) => `${i.name}` === `${t.image}` || i.name.endsWith(t.image));
    const unique = await store.imageSize(usedImage.id); // one image ID, no layer shared with another image
    assert.deepEqual(byType.Images, {
      Type: 'Images',
      TotalCount: String(store.images.size),
      Active: '1',
      Size: humanSize(store.layersSize),
      Reclaimable: pct(store.layersSize - unique, store.layersSize),
    });
    assert.deepEqual(byType.Containers, {
      Type: 'Containers',
      TotalCount: '2',
      Active: '1',
      Size: humanSize(wroteSize + upSize),
      Reclaimable: pct(wroteSize, wroteSize + upSize),
    });
    assert.deepEqual(byType['Local Volumes'], { Type: 'Local Volumes', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' });
    assert.deepEqual(byType['Build Cache'], { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' });

    const table = (await cli('system', 'df')).split('\n');
    assert.match(table[0], /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
    assert.match(table[2], /^Containers +2 +1 /);

    const verbose = await cli('system', 'df', '-v');
    assert.match(verbose, /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\n/);
    const wroteRow = verbose.split('\n').find((l) => l.endsWith(' wrote'));
    assert.ok(wroteRow, verbose);
    assert.match(wroteRow, new RegExp(` ${humanSize(wroteSize, 3).replace('.', '\\.')} .* Exited \\(0\\) `));
    assert.match(verbose, /Local Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\n/);
    assert.match(verbose, /Build cache usage: 0B\n$/);
  });

  it('prune: stopped containers, unused networks and dangling images go; running, used and tagged ones stay', async () => {
    const registry = t.registry.host;
    // A dangling image: the only name of the "unpulled" image moves to another image.
    await cli('pull', '-q', `${registry}/test/busybox:unpulled`);
    await cli('tag', `${registry}/test/busybox:unpulled`, 'local/moving:1');
    await cli('rmi', `${registry}/test/busybox:unpulled`);
    await cli('tag', t.image, 'local/moving:1');
    const dangling = (await t.daemon.client().images.list()).filter((i) => !i.tag);
    assert.equal(dangling.length, 1, 'one untagged image record');

    await cli('network', 'create', 'unused-net');
    await cli('network', 'create', 'used-net');
    const up = await t.runDetached('--name', 'up', '--network', 'used-net', t.image, 'sleep', '300');
    const exited = await t.daemon.cli(['run', '--name', 'gone', t.image, 'sh', '-c', 'head -c 100000 /dev/urandom > /blob']);
    assert.equal(exited.code, 0, exited.stderr);
    const created = await cli('create', '--name', 'never', t.image, 'true');
    const goneId = (await t.ps('-a')).find((c) => c.name === 'gone')?.id;
    const store = await storeSizes(t.daemon.client());

    // Without -f and without a terminal: refuses, removes nothing.
    const refused = await t.daemon.cli(['system', 'prune']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /stdin is not a terminal; pass -f/);
    assert.equal((await t.ps('-a')).length, 3);

    const out = await cli('system', 'prune', '-f');
    const removedContainers = /Deleted Containers:\n((?:[0-9a-f]{64}\n)+)\n/.exec(out)?.[1].trim().split('\n').sort();
    assert.deepEqual(removedContainers, [goneId, created.trim()].sort(), out);
    assert.match(out, /Deleted Networks:\nunused-net\n\n/);
    assert.match(out, /Deleted Images:\nuntagged: local\/moving@sha256:[0-9a-f]{64}\n\n/);
    const reclaimed = /Total reclaimed space: (.*)\n$/.exec(out)?.[1];
    assert.ok(reclaimed && reclaimed !== '0B', out);
    assert.ok((store.containers.get('gone') ?? 0) >= 100_000);

    assert.deepEqual(
      (await t.ps('-a')).map((c) => c.id),
      [up],
    );
    const networks = (JSON.parse(await cli('network', 'ls', '--json')) as Array<{ name: string }>).map((n) => n.name).sort();
    assert.ok(networks.includes('used-net') && networks.includes('bridge') && !networks.includes('unused-net'), networks.join(','));
    const images = await t.daemon.client().images.list();
    assert.ok(!images.some((i) => !i.tag), 'no dangling image left');
    assert.ok(images.some((i) => i.name.endsWith('local/moving:1')) && images.some((i) => i.name.endsWith(t.image)), 'tagged images stay');

    // -a: every image no container uses goes; the running container's image stays.
    await cli('pull', '-q', `${registry}/test/busybox:unpulled`);
    const all = await cli('system', 'prune', '-a', '-f');
    assert.match(all, /untagged: .*test\/busybox:unpulled\n/);
    const left = await t.daemon.client().images.list();
    assert.ok(!left.some((i) => i.name.endsWith('test/busybox:unpulled')), 'the unused image is gone');
    assert.ok(
      left.some((i) => i.name.endsWith(t.image)),
      'the image in use stays',
    );
  });

  it('prune --filter label=… removes only the stopped containers and networks that match', async () => {
    for (const [name, label] of [
      ['drop-me', 'drop=yes'],
      ['keep-me', 'other=1'],
    ]) {
      const r = await t.daemon.cli(['run', '--name', name, '--label', label, t.image, 'true']);
      assert.equal(r.code, 0, r.stderr);
    }
    await cli('network', 'create', '--label', 'drop=yes', 'drop-net');
    await cli('network', 'create', 'keep-net');
    const out = await cli('system', 'prune', '-f', '--filter', 'label=drop');
    assert.match(out, /Deleted Networks:\ndrop-net\n/);
    assert.deepEqual(
      (await t.ps('-a')).map((c) => c.name),
      ['keep-me'],
    );
    const networks = (JSON.parse(await cli('network', 'ls', '--json')) as Array<{ name: string }>).map((n) => n.name);
    assert.ok(networks.includes('keep-net') && !networks.includes('drop-net'), networks.join(','));
    await cli('network', 'rm', 'keep-net');
  });
});
