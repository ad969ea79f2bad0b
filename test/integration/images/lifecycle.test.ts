// What happens to images after a pull: tag, tag moves, rmi, prune and the
// garbage collection of content nothing references any more.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

interface Summary {
  name: string;
  tag: string;
  id: string;
  target: { digest: string };
}

function blobDigests(daemon: TestDaemon): Set<string> {
  const dir = path.join(daemon.root, 'content', 'blobs', 'sha256');
  return new Set(fs.existsSync(dir) ? fs.readdirSync(dir).map((h) => `sha256:${h}`) : []);
}

async function listImages(daemon: TestDaemon): Promise<Summary[]> {
  const result = await daemon.cli(['images', '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Summary[];
}

describe('image lifecycle: tag, rmi, prune, GC', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let daemon: TestDaemon;
  let first: PushedImage;
  let second: PushedImage;
  let ref: string;

  before(async () => {
    registry = await startRegistry({ cleanup });
    first = await pushBusybox(registry, 'app/web:v1', { format: 'oci', image: { marker: 'first' } });
    second = await pushBusybox(registry, 'app/web:v2', { format: 'oci', image: { marker: 'second' } });
    daemon = await startDaemon(cleanup);
    ref = `${registry.host}/app/web`;
  });

  it('tags an image under another name that resolves to the same ID', async () => {
    assert.equal((await daemon.cli(['pull', '-q', `${ref}:v1`])).code, 0);
    const tag = await daemon.cli(['tag', `${ref}:v1`, 'local/web:stable']);
    assert.equal(tag.code, 0, tag.stderr);
    const images = await listImages(daemon);
    const tagged = images.find((i) => i.name === 'docker.io/local/web:stable');
    assert.ok(tagged, 'the new name is listed');
    assert.equal(tagged.id, first.configDigest);
    const events = await daemon.cli(['events', '--since', '0', '--no-follow', '--json', '--topic', '/images/create']);
    assert.match(events.stdout, /"id":"docker.io\/local\/web:stable"/);
  });

  it('refuses to remove by ID an image with several names, unless forced', async () => {
    const shortId = first.configDigest.slice(7, 19);
    const refused = await daemon.cli(['rmi', shortId]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /referenced by 2 names/);
    assert.equal((await listImages(daemon)).length, 2);
  });

  it('removes one name without deleting content another name still uses', async () => {
    const before = blobDigests(daemon);
    const removed = await daemon.cli(['rmi', 'local/web:stable']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /Untagged: local\/web:stable/);
    assert.deepEqual(blobDigests(daemon), before, 'content still referenced by the other name stays');
  });

  it('keeps the image a moved tag pointed at as <none>, and prune removes it with its content', async () => {
    // Move the tag "live" from v1 to v2, as a re-pull of a moving tag does.
    assert.equal((await daemon.cli(['tag', `${ref}:v1`, `${ref}:live`])).code, 0);
    assert.equal((await daemon.cli(['rmi', `${ref}:v1`])).code, 0);
    assert.equal((await daemon.cli(['pull', '-q', `${ref}:v2`])).code, 0);
    assert.equal((await daemon.cli(['tag', `${ref}:v2`, `${ref}:live`])).code, 0);
    let images = await listImages(daemon);
    const live = images.find((i) => i.name === `${ref}:live`)!;
    assert.equal(live.id, second.configDigest);
    const orphan = images.find((i) => i.id === first.configDigest);
    assert.ok(orphan, 'the image "live" used to name is kept, untagged');
    assert.equal(orphan.name, `${ref}@${first.manifestDigest}`);
    assert.equal(orphan.tag, '');
    const pruned = await daemon.cli(['image', 'prune', '--json']);
    assert.equal(pruned.code, 0, pruned.stderr);
    const blobs = blobDigests(daemon);
    assert.ok(!blobs.has(first.configDigest), 'v1 config collected');
    assert.ok(!blobs.has(first.manifestDigest), 'v1 manifest collected');
    assert.ok(blobs.has(second.configDigest), 'v2 kept');
    images = await listImages(daemon);
    assert.deepEqual(images.map((i) => i.name).sort(), [`${ref}:live`, `${ref}:v2`]);
  });

  it('a re-pull that moves a tag leaves the old image as <none> until prune', async () => {
    const registry2 = await startRegistry({ cleanup });
    const old = await pushBusybox(registry2, 'moving/app:latest', { format: 'oci', image: { marker: 'old' } });
    const name = `${registry2.host}/moving/app:latest`;
    assert.equal((await daemon.cli(['pull', '-q', name])).code, 0);
    const fresh = await pushBusybox(registry2, 'moving/app:latest', { format: 'oci', image: { marker: 'new' } });
    assert.notEqual(fresh.manifestDigest, old.manifestDigest);
    assert.equal((await daemon.cli(['pull', '-q', name])).code, 0);
    let images = await listImages(daemon);
    const dangling = images.find((i) => i.id === old.configDigest);
    assert.ok(dangling, 'the previous image is kept');
    assert.equal(dangling.tag, '');
    assert.equal(dangling.name, `${registry2.host}/moving/app@${old.manifestDigest}`);
    const table = await daemon.cli(['images', `${registry2.host}/moving/app`]);
    assert.match(table.stdout, /<none>/);
    const pruned = await daemon.cli(['image', 'prune']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /untagged: .*moving\/app@sha256/);
    assert.match(pruned.stdout, /Total reclaimed space: [1-9]/);
    images = await listImages(daemon);
    assert.equal(
      images.find((i) => i.id === old.configDigest),
      undefined,
    );
    assert.ok(images.find((i) => i.id === fresh.configDigest));
    assert.ok(!blobDigests(daemon).has(old.configDigest));
  });

  it('rmi of the last names, then prune -a, leaves an empty store', async () => {
    const all = await daemon.cli(['image', 'prune', '-a', '--json']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(await listImages(daemon), []);
    assert.deepEqual([...blobDigests(daemon)], []);
    const events = await daemon.cli(['events', '--since', '0', '--no-follow', '--json', '--topic', '/images/delete']);
    assert.ok(events.stdout.trim().split('\n').length >= 3);
  });

  it('reports unknown images clearly', async () => {
    for (const args of [
      ['rmi', 'no/such:image'],
      ['inspect', 'no/such:image'],
      ['tag', 'no/such:image', 'x:y'],
    ]) {
      const result = await daemon.cli(args);
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, /no such image: no\/such:image/);
    }
    const badName = await daemon.cli(['tag', 'sha256:0000', 'UPPER/case']);
    assert.equal(badName.code, 1);
  });
});
