// Bad input on pull, against a real registry and a real gantryd: each case
// must fail with a clear error (CLI exit 1, stderr that says what is wrong)
// and leave nothing half-stored: no image record, and every file in the
// content store still hashes to its name.
//
// Where distribution 2.8 refuses to store or serve the bad document itself
// (manifests over 4 MiB, manifests that are not JSON), the fault proxy serves
// it in the registry's place, as another registry could.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { pushBusybox, OCI_MANIFEST, type PushedImage } from '../../helpers/fixtures';
import { startRegistry, type Registry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

/**
 * Every file under `<root>/content/blobs/<alg>/` whose bytes do not hash to
 * its name (or that is not a blob at all): empty when the store is sound.
 */
function corruptBlobs(root: string): string[] {
  const blobs = path.join(root, 'content', 'blobs');
  const bad: string[] = [];
  if (!fs.existsSync(blobs)) return bad;
  for (const alg of fs.readdirSync(blobs)) {
    for (const name of fs.readdirSync(path.join(blobs, alg))) {
      const file = path.join(blobs, alg, name);
      if (!['sha256', 'sha512'].includes(alg) || !fs.statSync(file).isFile()) {
        bad.push(`${alg}/${name}: not a blob`);
        continue;
      }
      const actual = createHash(alg).update(fs.readFileSync(file)).digest('hex');
      if (actual !== name) bad.push(`${alg}/${name}: bytes hash to ${actual}`);
    }
  }
  return bad;
}

function hasBlob(daemon: TestDaemon, digest: string): boolean {
  const [alg, hex] = digest.split(':');
  return fs.existsSync(path.join(daemon.root, 'content', 'blobs', alg, hex));
}

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Monolithic blob upload (POST then PUT ?digest=); returns the digest. */
async function uploadBlob(registry: Registry, repo: string, data: Buffer | string): Promise<string> {
  const digest = sha256(data);
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, `start upload: ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, registry.url);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: data });
  assert.equal(put.status, 201, `finish upload: ${await put.text()}`);
  return digest;
}

/** PUT a manifest; returns the registry's answer (tests decide what they expect). */
async function putManifest(registry: Registry, repo: string, tag: string, body: Buffer | string, mediaType = OCI_MANIFEST) {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': mediaType }, body });
  return { status: res.status, text: await res.text() };
}

describe('gantry pull: bad input (real registry)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let registry: Registry;
  let proxy: FaultProxy;
  let daemon: TestDaemon;
  let base: PushedImage;
  let baseConfig: Record<string, unknown>;

  before(async () => {
    registry = await startRegistry({ cleanup });
    proxy = await startFaultProxy(registry.port);
    cleanup.defer(() => proxy.close());
    // The parts the hand-made manifests below reuse.
    base = await pushBusybox(registry, 'bad/base:1', { format: 'oci', image: { marker: 'failures-base' } });
    baseConfig = (await (await fetch(`${registry.url}/v2/bad/base/blobs/${base.configDigest}`)).json()) as Record<string, unknown>;
  });

  // A daemon per case: should one crash gantryd, the others still run (and say so).
  beforeEach(async () => {
    daemon = await startDaemon(cleanup);
  });
  afterEach(() => daemon.stop());

  /** A manifest over `base`'s config and layers, with `changes` merged in. */
  function manifestOf(changes: Record<string, unknown> = {}): Record<string, unknown> {
    const m = JSON.parse(base.manifestRaw) as Record<string, unknown>;
    return { mediaType: OCI_MANIFEST, ...m, ...changes };
  }

  /**
   * Pulls `ref`, which must fail: exit 1 and stderr matching `error`; then no
   * image record under the repository and a sound content store.
   */
  async function expectRefused(ref: string, error: RegExp): Promise<string> {
    const result = await daemon.cli(['pull', ref]);
    const died = daemon.process.exitStatus;
    assert.equal(died, undefined, `gantryd died (${JSON.stringify(died)}) pulling ${ref}:\n${daemon.process.stderr.slice(-3000)}`);
    assert.equal(result.code, 1, `pull ${ref} should fail\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.match(result.stderr, error);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for bad input');
    const list = await daemon.cli(['images', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const repo = ref.replace(/[:@][^/]*$/, '');
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((i) => i.name);
    assert.deepEqual(
      names.filter((n) => n.startsWith(`${repo}:`) || n.startsWith(`${repo}@`)),
      [],
      'no image record',
    );
    assert.deepEqual(corruptBlobs(daemon.root), [], 'every stored blob hashes to its name');
    return result.stderr;
  }

  it('refuses a layer whose bytes do not match its digest, and does not store it', async () => {
    const image = await pushBusybox(registry, 'bad/layer:1', { format: 'oci', image: { marker: 'failures-tampered-layer' } });
    const [layer] = image.layerDigests;
    const file = registry.blobPath(layer);
    const bytes = await fs.promises.readFile(file);
    for (let i = 0; i < 64; i++) bytes[Math.floor(bytes.length / 2) + i] ^= 0xff; // same size, other bytes
    await fs.promises.writeFile(file, bytes);

    await expectRefused(`${registry.host}/bad/layer:1`, new RegExp(`digest mismatch: expected ${layer}, got sha256:[a-f0-9]{64}`));
    assert.equal(hasBlob(daemon, layer), false, 'the tampered layer is not in the store');
    assert.equal(hasBlob(daemon, image.configDigest), true, 'the (good) config was stored');
    // Bytes that failed verification are not kept for a resume: it would only fail again.
    const ingests = await fs.promises.readdir(path.join(daemon.root, 'content', 'ingest'));
    assert.deepEqual(ingests, [], 'no ingest left behind');
  });

  it('refuses a layer whose size is not what its descriptor says', async () => {
    const image = await pushBusybox(registry, 'bad/short:1', { format: 'oci', image: { marker: 'failures-short-layer' } });
    const [layer] = image.layerDigests;
    const file = registry.blobPath(layer);
    const bytes = await fs.promises.readFile(file);
    await fs.promises.writeFile(file, bytes.subarray(0, bytes.length - 1000));

    await expectRefused(
      `${registry.host}/bad/short:1`,
      new RegExp(`registry sent ${bytes.length - 1000} bytes, the descriptor says ${bytes.length}: ${registry.host}/bad/short@${layer}`),
    );
    assert.equal(hasBlob(daemon, layer), false);
  });

  it('refuses a layer of an unknown media type', async () => {
    const layers = (manifestOf().layers as Record<string, unknown>[]).map((l) => ({ ...l, mediaType: 'application/vnd.example.unknown' }));
    const put = await putManifest(registry, 'bad/base', 'unknown-layer', JSON.stringify(manifestOf({ layers })));
    assert.equal(put.status, 201, put.text);
    await expectRefused(
      `${registry.host}/bad/base:unknown-layer`,
      /manifest sha256:[a-f0-9]{64} layer 0 \(sha256:[a-f0-9]{64}\) has unsupported media type application\/vnd\.example\.unknown/,
    );
  });

  it('refuses an OCI artifact whose config is not an image config', async () => {
    const empty = await uploadBlob(registry, 'bad/base', '{}');
    const artifact = manifestOf({
      artifactType: 'application/vnd.example.sbom',
      config: { mediaType: OCI_EMPTY, digest: empty, size: 2 },
      layers: [{ mediaType: 'application/vnd.example.sbom.v1+json', digest: empty, size: 2 }],
    });
    const put = await putManifest(registry, 'bad/base', 'artifact', JSON.stringify(artifact));
    assert.equal(put.status, 201, put.text);
    await expectRefused(
      `${registry.host}/bad/base:artifact`,
      /config has unsupported media type application\/vnd\.oci\.empty\.v1\+json \(not a runnable image\)/,
    );
  });

  it('names the reference when the tag does not exist', async () => {
    await expectRefused(`${registry.host}/bad/base:no-such-tag`, new RegExp(`manifest unknown: ${registry.host}/bad/base:no-such-tag`));
  });

  describe('a manifest that is not what its digest says, or not JSON', () => {
    it('bytes changed in the registry (still valid JSON): the digest check refuses them', async () => {
      const image = await pushBusybox(registry, 'bad/manifest:changed', { format: 'oci', image: { marker: 'failures-changed-manifest' } });
      // Valid JSON, so the registry still serves it (with the old digest and the new length).
      await fs.promises.writeFile(registry.blobPath(image.manifestDigest), image.manifestRaw.replace('"layers":', '"layers": '));
      const stderr = await expectRefused(
        `${registry.host}/bad/manifest:changed`,
        /digest mismatch: expected sha256:[a-f0-9]{64}, got sha256:[a-f0-9]{64}/,
      );
      assert.match(stderr, new RegExp(image.manifestDigest));
      assert.equal(hasBlob(daemon, image.manifestDigest), false);
    });

    it("invalid JSON in the registry's storage: the registry itself fails (500), and gantry says so", async () => {
      const image = await pushBusybox(registry, 'bad/manifest:broken', { format: 'oci', image: { marker: 'failures-broken-manifest' } });
      await fs.promises.writeFile(registry.blobPath(image.manifestDigest), image.manifestRaw.slice(0, 40));
      // distribution 2.8 parses manifests before serving them; on this one it
      // answers 500 {"errors":[{"code":"UNKNOWN","message":"unknown error"}]}.
      // Gantry retries the 500s, then reports the registry's words and the reference.
      await expectRefused(
        `${registry.host}/bad/manifest:broken`,
        new RegExp(`registry failed with HTTP 500: unknown error: ${registry.host}/bad/manifest:broken`),
      );
      assert.equal(hasBlob(daemon, image.manifestDigest), false);
    });

    it('invalid JSON from a registry that serves it: the parser refuses it', async () => {
      const broken = Buffer.from(base.manifestRaw.slice(0, 40));
      const digest = proxy.replaceManifest('bad/base', 'not-json', broken, OCI_MANIFEST);
      await expectRefused(`${proxy.host}/bad/base:not-json`, new RegExp(`malformed manifest ${digest}: .*JSON`));
    });
  });

  it('refuses a manifest larger than 4 MiB', async () => {
    const huge = JSON.stringify(manifestOf({ annotations: { 'org.example.padding': 'x'.repeat(5 * 1024 * 1024) } }));
    // distribution 2.8 caps manifests at 4 MiB itself ("http: request body too
    // large"); when it does, the proxy serves the manifest in its place.
    const put = await putManifest(registry, 'bad/base', 'huge', huge);
    let ref = `${registry.host}/bad/base:huge`;
    if (put.status !== 201) {
      assert.match(put.text, /MANIFEST_INVALID|too large/, `unexpected PUT answer ${put.status}`);
      proxy.replaceManifest('bad/base', 'huge', Buffer.from(huge), OCI_MANIFEST);
      ref = `${proxy.host}/bad/base:huge`;
    }
    await expectRefused(ref, new RegExp(`manifest is larger than the 4194304-byte limit \\(${Buffer.byteLength(huge)} bytes\\)`));
  });

  it('refuses an image whose config lists more diff_ids than it has layers', async () => {
    const rootfs = baseConfig.rootfs as { type: string; diff_ids: string[] };
    const config = JSON.stringify({ ...baseConfig, rootfs: { ...rootfs, diff_ids: [...rootfs.diff_ids, ...rootfs.diff_ids] } });
    const configDigest = await uploadBlob(registry, 'bad/base', config);
    const manifest = manifestOf({ config: { mediaType: OCI_CONFIG, digest: configDigest, size: Buffer.byteLength(config) } });
    const put = await putManifest(registry, 'bad/base', 'inconsistent', JSON.stringify(manifest));
    assert.equal(put.status, 201, put.text);
    await expectRefused(
      `${registry.host}/bad/base:inconsistent`,
      new RegExp(`image ${registry.host}/bad/base:inconsistent is inconsistent: 1 layers but 2 diff_ids in its config`),
    );
  });
});
