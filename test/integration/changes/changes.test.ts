// A container's changes against real containers (runc, overlayfs): `diff`
// lists exactly what Docker would; `commit` makes an image whose containers
// see exactly those changes (and umoci, unpacking the pushed image, sees the
// same tree); `export` writes the merged tree without whiteouts; `import`
// of that tar runs.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { execStdout } from '../../helpers/containerExec';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { containerWorld, runAttached, type ContainerWorld } from '../containers/harness';
import { CHANGE_SCRIPT, CHANGES_IMAGE, diffLines, EXPECTED_DIFF, LISTING_SCRIPT, tarNames } from './changesFixture';

describe('changes: diff, commit, export and import of a container', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup, CHANGES_IMAGE);
  });

  const changed = async (config: Record<string, unknown> = {}) => {
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'], network: 'none', ...config });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    await world.client.containers.start(c.id);
    await execStdout(world.client, c.id, ['sh', '-c', CHANGE_SCRIPT]);
    return c;
  };

  const listing = (id: string) => execStdout(world.client, id, ['sh', '-c', LISTING_SCRIPT]);

  it('diff lists exactly what Docker would, running and stopped; a fresh container has no changes', async () => {
    const fresh = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(fresh.id, true).catch(() => undefined));
    assert.deepEqual(await diffLines(world.client, fresh.id), [], 'a created container changed nothing');
    await world.client.containers.start(fresh.id);
    assert.deepEqual(await diffLines(world.client, fresh.id), [], 'mount points the runtime made are not changes');

    const c = await changed();
    assert.deepEqual(await diffLines(world.client, c.id), EXPECTED_DIFF);
    await world.client.containers.stop(c.id, { timeoutSeconds: 0 });
    assert.deepEqual(await diffLines(world.client, c.id), EXPECTED_DIFF, 'the same once stopped');
  });

  it('commit: a container of the new image sees exactly the changes; history has the entry; --change CMD takes effect', async () => {
    const c = await changed();
    const before = await listing(c.id);
    assert.match(before, /\/data\/replaced\/new.txt regular file/);
    const name = `${world.registry.host}/gantry-test/committed:v1`;
    const image = await world.client.images.commit({
      container: c.id,
      reference: name,
      comment: 'the changes',
      author: 'Tester <t@example.com>',
      changes: ['CMD ["echo","hi"]', 'ENV COMMITTED=yes'],
    });
    assert.equal(image.name, name);
    const status = (await world.client.containers.inspect(c.id)).container!.status;
    assert.equal(status, 2 /* running again after the pause */);

    const run = await runAttached(world.client, { image: name, network: 'none' });
    cleanup.defer(() => world.client.containers.remove(run.container.id, true).catch(() => undefined));
    assert.equal(run.stdout, 'hi\n', 'the --change CMD runs');

    const d = await world.client.containers.create('', { image: name, cmd: ['sleep', '300'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(d.id, true).catch(() => undefined));
    await world.client.containers.start(d.id);
    assert.equal(await listing(d.id), before, 'the new container sees what the committed one had');
    assert.equal(await execStdout(world.client, d.id, ['sh', '-c', 'echo $COMMITTED']), 'yes\n');
    assert.deepEqual(await diffLines(world.client, d.id), [], 'nothing changed against the committed image');

    const inspected = await world.client.images.inspect(name);
    const last = inspected.history[inspected.history.length - 1];
    assert.equal(last.comment, 'the changes');
    assert.equal(last.author, 'Tester <t@example.com>');
    assert.equal(last.createdBy, 'sleep 300');
    assert.equal(inspected.author, 'Tester <t@example.com>');
    assert.equal(inspected.layers.length, 2);

    // umoci, unpacking the image pushed to a registry, sees the same tree (listed with the image's own busybox).
    for await (const _ of world.client.images.push({ reference: name })) {
      // progress is not under test here
    }
    const dir = await makeTempDir('gcommit', cleanup);
    await runCommand('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${name}`, `oci:${dir}/oci:v1`]);
    // The layer itself: the replaced directory is opaque, so no `.wh.` entry below it (the marker hides all).
    const blob = (digest: string) => fs.readFileSync(path.join(dir, 'oci/blobs', ...digest.split(':')));
    const index = JSON.parse(blob(JSON.parse(fs.readFileSync(path.join(dir, 'oci/index.json'), 'utf8')).manifests[0].digest).toString());
    const layerNames = await tarNames(gunzipSync(blob(index.layers[index.layers.length - 1].digest)));
    assert.ok(layerNames.includes('data/replaced/.wh..wh..opq'), `the opaque marker: ${layerNames.join(' ')}`);
    assert.ok(layerNames.includes('data/.wh.gone'), 'a deletion outside it is a whiteout');
    assert.deepEqual(
      layerNames.filter((n) => n.startsWith('data/replaced/.wh.') && !n.endsWith('.wh..wh..opq')),
      [],
      'no whiteout below an opaque directory',
    );
    await runCommand('umoci', ['unpack', '--image', `${dir}/oci:v1`, `${dir}/bundle`]);
    const rootfs = path.join(dir, 'bundle/rootfs');
    assert.ok(!fs.existsSync(path.join(rootfs, 'data/gone')), 'the removed directory stays removed');
    assert.ok(!fs.existsSync(path.join(rootfs, 'data/replaced/old.txt')), 'the replaced directory lost its old entry');
    assert.equal((await runCommand('chroot', [rootfs, '/bin/sh', '-c', LISTING_SCRIPT])).stdout, before);
  });

  it('commit of a stopped container, untagged: the image ID is printed and the image runs', async () => {
    const c = await changed();
    await world.client.containers.stop(c.id, { timeoutSeconds: 0 });
    const image = await world.client.images.commit({ container: c.id });
    assert.match(image.id, /^sha256:[a-f0-9]{64}$/);
    assert.match(image.name, /@sha256:/, 'untagged');
    const run = await runAttached(world.client, { image: image.id, cmd: ['cat', '/data/replaced/new.txt'], network: 'none' });
    cleanup.defer(() => world.client.containers.remove(run.container.id, true).catch(() => undefined));
    assert.equal(run.stdout, 'fresh\n');
    assert.equal(run.exitCode, 0);
  });

  it('export writes the merged tree without whiteouts; import of it runs and has the same files', async () => {
    const c = await changed();
    const data = Buffer.concat(await toArray(world.client.containers.export(c.id)));
    const names = await tarNames(data);
    assert.ok(names.includes('data/new.txt'));
    assert.ok(names.includes('data/replaced/new.txt'));
    assert.ok(names.includes('bin/busybox'));
    assert.ok(!names.some((n) => path.posix.basename(n).startsWith('.wh.')), 'no whiteouts');
    for (const gone of ['data/gone/', 'data/gone/b.txt', 'data/replaced/old.txt', 'etc/gantry-fixture']) {
      assert.ok(!names.includes(gone), `${gone} is not exported`);
    }
    const before = await listing(c.id);

    const image = await world.client.images.import(
      { reference: 'imported/changes:v1', changes: ['CMD ["sleep","300"]'] },
      Readable.from([data]),
    );
    assert.equal(image.name, 'docker.io/imported/changes:v1');
    const d = await world.client.containers.create('', { image: image.name, network: 'none' });
    cleanup.defer(() => world.client.containers.remove(d.id, true).catch(() => undefined));
    await world.client.containers.start(d.id);
    assert.equal(await listing(d.id), before);
    const inspected = await world.client.images.inspect(image.name);
    assert.equal(inspected.history[0].comment, 'Imported from -');
  });
});

async function toArray(it: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return out;
}
