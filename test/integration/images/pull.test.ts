// Pulls through a real gantryd from the real registry, driven by the CLI.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import {
  pushBusybox,
  pushMultiArch,
  OCI_INDEX,
  OCI_MANIFEST,
  DOCKER_MANIFEST,
  DOCKER_LIST,
  type PushedImage,
} from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

interface Summary {
  name: string;
  repository: string;
  tag: string;
  id: string;
  target: { digest: string; mediaType: string };
  manifest: { digest: string; mediaType: string };
  platform: { os: string; architecture: string; variant: string };
  size: number;
}

/** Every file under the daemon's content store, with the sha256 of its bytes. */
function storedBlobs(daemon: TestDaemon): Map<string, string> {
  const dir = path.join(daemon.root, 'content', 'blobs', 'sha256');
  const blobs = new Map<string, string>();
  if (!fs.existsSync(dir)) return blobs;
  for (const hex of fs.readdirSync(dir)) {
    blobs.set(
      `sha256:${hex}`,
      `sha256:${createHash('sha256')
        .update(fs.readFileSync(path.join(dir, hex)))
        .digest('hex')}`,
    );
  }
  return blobs;
}

async function pullJson(daemon: TestDaemon, ...args: string[]): Promise<Summary> {
  const result = await daemon.cli(['pull', '--json', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Summary;
}

describe('gantry pull (real registry)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let daemon: TestDaemon;
  let oci: PushedImage;
  let docker: PushedImage;

  before(async () => {
    registry = await startRegistry({ cleanup });
    oci = await pushBusybox(registry, 'test/busybox:oci', {
      format: 'oci',
      image: { entrypoint: ['/bin/sh', '-c'], cmd: ['echo hi'], env: ['GREETING=hello'], workingDir: '/srv', labels: { team: 'gantry' } },
    });
    docker = await pushBusybox(registry, 'test/busybox:v2s2', { format: 'v2s2' });
    daemon = await startDaemon(cleanup);
  });

  it('pulls an OCI image by tag and stores verified blobs', async () => {
    const image = await pullJson(daemon, `${registry.host}/test/busybox:oci`);
    assert.equal(image.name, `${registry.host}/test/busybox:oci`);
    assert.equal(image.tag, 'oci');
    assert.equal(image.target.digest, oci.manifestDigest);
    assert.equal(image.target.mediaType, OCI_MANIFEST);
    assert.equal(image.id, oci.configDigest);
    const blobs = storedBlobs(daemon);
    for (const digest of [oci.manifestDigest, oci.configDigest, ...oci.layerDigests]) {
      assert.equal(blobs.get(digest), digest, `blob ${digest} stored with matching bytes`);
    }
  });

  it('pulls a Docker schema2 image by tag', async () => {
    const image = await pullJson(daemon, `${registry.host}/test/busybox:v2s2`);
    assert.equal(image.target.mediaType, DOCKER_MANIFEST);
    assert.equal(image.target.digest, docker.manifestDigest);
    assert.equal(image.id, docker.configDigest);
  });

  it('pulls by digest into an untagged record', async () => {
    const image = await pullJson(daemon, `${registry.host}/test/busybox@${docker.manifestDigest}`);
    assert.equal(image.name, `${registry.host}/test/busybox@${docker.manifestDigest}`);
    assert.equal(image.tag, '');
    const list = await daemon.cli(['images']);
    assert.match(list.stdout, new RegExp(`${registry.host}/test/busybox\\s+<none>\\s+${docker.configDigest.slice(7, 19)}`));
  });

  it('refuses a digest reference the registry resolves to other content', async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const result = await daemon.cli(['pull', `${registry.host}/test/busybox@${wrong}`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not found|unknown/i);
  });

  it('picks the host platform from a multi-arch index, and another with --platform', async () => {
    for (const [tag, format, indexType] of [
      ['multi-oci', 'oci', OCI_INDEX],
      ['multi-docker', 'v2s2', DOCKER_LIST],
    ] as const) {
      const pushed = await pushMultiArch(registry, `test/multi:${tag}`, { format });
      const amd64 = pushed.images.find((i) => i.platform.architecture === 'amd64')!;
      const arm64 = pushed.images.find((i) => i.platform.architecture === 'arm64')!;
      const host = await pullJson(daemon, `${registry.host}/test/multi:${tag}`);
      assert.equal(host.target.mediaType, indexType);
      assert.equal(host.target.digest, pushed.manifestDigest);
      assert.equal(host.platform.architecture, 'amd64');
      assert.equal(host.manifest.digest, amd64.manifestDigest);
      assert.equal(host.id, amd64.configDigest);
      const other = await pullJson(daemon, '--platform', 'linux/arm64', `${registry.host}/test/multi:${tag}`);
      assert.equal(other.platform.architecture, 'arm64');
      assert.equal(other.id, arm64.configDigest);
    }
    const none = await daemon.cli(['pull', '--platform', 'linux/s390x', `${registry.host}/test/multi:multi-oci`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no image for linux\/s390x \(it offers: linux\/amd64, linux\/arm64\)/);
  });

  it('lists and inspects images with their runtime config', async () => {
    const list = await daemon.cli(['images', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as Summary[]).map((i) => i.name);
    assert.ok(names.includes(`${registry.host}/test/busybox:oci`));
    const inspect = await daemon.cli(['inspect', `${registry.host}/test/busybox:oci`]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const [details] = JSON.parse(inspect.stdout);
    assert.deepEqual(details.config.entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(details.config.cmd, ['echo hi']);
    assert.ok(details.config.env.includes('GREETING=hello'));
    assert.equal(details.config.workingDir, '/srv');
    assert.deepEqual(details.config.labels, { team: 'gantry' });
    assert.deepEqual(
      details.layers.map((l: { digest: string }) => l.digest),
      oci.layerDigests,
    );
    assert.equal(details.diffIds.length, oci.layerDigests.length);
    assert.equal(details.manifest.config.digest, oci.configDigest);
    // By short ID too, as Docker allows.
    const byId = await daemon.cli(['inspect', oci.configDigest.slice(7, 19)]);
    assert.equal(byId.code, 0, byId.stderr);
  });

  it('says the image is up to date on a second pull and downloads nothing', async () => {
    const again = await daemon.cli(['pull', `${registry.host}/test/busybox:oci`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Already exists/);
    assert.match(again.stdout, /Status: Image is up to date for/);
  });

  it('records create events for pulls', async () => {
    const events = await daemon.cli(['events', '--since', '0', '--no-follow', '--json', '--topic', '/images/']);
    const lines = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(
      lines.some(
        (e) => e.topic === '/images/create' && e.id === `${registry.host}/test/busybox:oci` && e.attributes.digest === oci.manifestDigest,
      ),
    );
  });

  it('fails clearly for a missing tag and an unknown repository', async () => {
    const tag = await daemon.cli(['pull', `${registry.host}/test/busybox:nope`]);
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, /test\/busybox:nope/);
    assert.match(tag.stderr, /not found|unknown/i);
    const repo = await daemon.cli(['pull', `${registry.host}/no/such/repo:latest`]);
    assert.equal(repo.code, 1);
    assert.match(repo.stderr, /not found|unknown/i);
  });
});
