// Proves fixtures.ts: images built with umoci, pushed with skopeo, read back
// over the registry API with Node's fetch and checked byte for byte.
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { Registry, startRegistry } from '../../helpers/registry';
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, pushBusybox, pushMultiArch } from '../../helpers/fixtures';
import { suiteCleanup } from '../../helpers/tmp';

const ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

function sha256(b: Buffer): string {
  return 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
}

async function get(url: string): Promise<{ res: Response; body: Buffer }> {
  const res = await fetch(url, { headers: { accept: ACCEPT } });
  assert.equal(res.status, 200, `GET ${url}`);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

describe('harness: fixture images', () => {
  const cleanup = suiteCleanup();
  let reg: Registry;

  before(async () => {
    reg = await startRegistry({ cleanup });
  });

  /** Fetches the manifest and every blob it names; checks digests; returns config + layer. */
  async function fetchImage(repo: string, ref: string, mediaType: string) {
    const { res, body } = await get(`${reg.url}/v2/${repo}/manifests/${ref}`);
    assert.equal(res.headers.get('content-type'), mediaType);
    assert.equal(res.headers.get('docker-content-digest'), sha256(body));
    const manifest = JSON.parse(body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    const blobs = [];
    for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
      const blob = (await get(`${reg.url}/v2/${repo}/blobs/${d}`)).body;
      assert.equal(sha256(blob), d, `blob ${d} content matches its digest`);
      blobs.push(blob);
    }
    const config = JSON.parse(blobs[0].toString());
    const layerTar = zlib.gunzipSync(blobs[1]).toString('latin1');
    return { digest: sha256(body), manifest, config, layerTar };
  }

  it('pushes busybox as an OCI image manifest', async () => {
    const pushed = await pushBusybox(reg, 'test/busybox:oci', { format: 'oci' });
    assert.equal(pushed.mediaType, OCI_MANIFEST);
    const img = await fetchImage('test/busybox', 'oci', OCI_MANIFEST);
    assert.equal(img.digest, pushed.manifestDigest);
    assert.equal(img.manifest.config.digest, pushed.configDigest);
    assert.deepEqual(
      img.manifest.layers.map((l) => l.digest),
      pushed.layerDigests,
    );
    assert.equal(img.config.architecture, 'amd64');
    assert.equal(img.config.os, 'linux');
    assert.deepEqual(img.config.config.Cmd, ['/bin/sh']);
    // One layer: static busybox, applet symlinks, marker file.
    for (const name of ['bin/busybox', 'bin/sh', 'etc/passwd', 'etc/gantry-fixture', 'hello.txt']) {
      assert.ok(img.layerTar.includes(name), `layer holds ${name}`);
    }
  });

  it('pushes the same image as Docker schema2 with the same layer', async () => {
    const oci = await pushBusybox(reg, 'test/busybox:oci2', { format: 'oci' });
    const pushed = await pushBusybox(reg, 'test/busybox:v2s2', { format: 'v2s2' });
    assert.equal(pushed.mediaType, DOCKER_MANIFEST);
    const img = await fetchImage('test/busybox', 'v2s2', DOCKER_MANIFEST);
    assert.equal(img.digest, pushed.manifestDigest);
    assert.notEqual(img.digest, oci.manifestDigest);
    assert.deepEqual(pushed.layerDigests, oci.layerDigests, 'built once, cached, same layer blob');
    assert.equal((img.manifest as unknown as { mediaType: string }).mediaType, DOCKER_MANIFEST);
  });

  it('applies entrypoint, cmd, env, workdir, user and labels', async () => {
    await pushBusybox(reg, 'test/configured:1', {
      image: {
        entrypoint: ['/bin/sh', '-c'],
        cmd: ['echo hi'],
        env: ['PATH=/bin', 'GANTRY_TEST=1'],
        workingDir: '/tmp',
        user: '65534:65534',
        labels: { 'org.example.fixture': 'yes' },
        files: { '/data/extra.txt': 'extra' },
      },
    });
    const { config, layerTar } = await fetchImage('test/configured', '1', OCI_MANIFEST);
    assert.deepEqual(config.config.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(config.config.Cmd, ['echo hi']);
    assert.deepEqual(config.config.Env, ['PATH=/bin', 'GANTRY_TEST=1']);
    assert.equal(config.config.WorkingDir, '/tmp');
    assert.equal(config.config.User, '65534:65534');
    assert.deepEqual(config.config.Labels, { 'org.example.fixture': 'yes' });
    assert.ok(layerTar.includes('data/extra.txt'));
  });

  for (const [format, listType, childType] of [
    ['oci', OCI_INDEX, OCI_MANIFEST],
    ['v2s2', DOCKER_LIST, DOCKER_MANIFEST],
  ] as const) {
    it(`pushes a linux/amd64 + linux/arm64 ${format === 'oci' ? 'OCI index' : 'Docker manifest list'}`, async () => {
      const pushed = await pushMultiArch(reg, `test/multi:${format}`, { format });
      assert.equal(pushed.mediaType, listType);
      const { res, body } = await get(`${reg.url}/v2/test/multi/manifests/${format}`);
      assert.equal(res.headers.get('content-type'), listType);
      assert.equal(sha256(body), pushed.manifestDigest);
      const index = JSON.parse(body.toString()) as {
        manifests: { digest: string; mediaType: string; platform: { os: string; architecture: string } }[];
      };
      assert.deepEqual(
        index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`),
        ['linux/amd64', 'linux/arm64'],
      );
      const markers = [];
      for (const m of index.manifests) {
        assert.equal(m.mediaType, childType);
        const img = await fetchImage('test/multi', m.digest, childType);
        assert.equal(img.config.architecture, m.platform.architecture);
        markers.push(/busybox-(amd64|arm64)/.exec(img.layerTar)?.[0]);
      }
      assert.deepEqual(markers, ['busybox-amd64', 'busybox-arm64']);
      assert.deepEqual(
        pushed.images.map((i) => i.manifestDigest),
        index.manifests.map((m) => m.digest),
      );
    });
  }
});
