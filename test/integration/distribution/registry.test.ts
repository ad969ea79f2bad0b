// The registry client against a real docker-registry (plain HTTP on
// loopback) holding fixture images pushed by skopeo: resolve, fetch, Range
// resume, errors, a registry restart mid-request, cancellation.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { isCancelled, isNotFound, kindOf } from '../../../runtime/errdefs/errdefs';
import type { Descriptor } from '../../../runtime/oci/descriptor';
import type { Registry } from '../../../runtime/distribution/distribution';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry } from '../../../runtime/distribution/registry';
import { createLogger } from '../../../runtime/util/log';
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBusybox,
  pushMultiArch,
  PushedImage,
  PushedIndex,
} from '../../helpers/fixtures';
import { Registry as TestRegistry, startRegistry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ctx = () => ({ signal: new AbortController().signal });
const readAll = async (r: Readable) => Buffer.concat(await r.toArray());

describe('distribution: registry client against docker-registry', () => {
  const cleanup = suiteCleanup();
  let reg: TestRegistry;
  let certsDir: string;
  let registry: Registry;
  let oci: PushedImage;
  let v2s2: PushedImage;
  let ociIndex: PushedIndex;
  let dockerList: PushedIndex;

  before(async () => {
    reg = await startRegistry({ cleanup });
    certsDir = await makeTempDir('gcerts', cleanup);
    // One push at a time: concurrent skopeo pushes into one repository race in
    // docker-registry 2.8 ("manifest blob unknown").
    oci = await pushBusybox(reg, 'test/busybox:oci');
    v2s2 = await pushBusybox(reg, 'test/busybox:v2s2', { format: 'v2s2' });
    ociIndex = await pushMultiArch(reg, 'test/multi:oci');
    dockerList = await pushMultiArch(reg, 'test/multi:v2s2', { format: 'v2s2' });
    registry = createRegistry({ certsDir });
    cleanup.defer(() => registry.close());
  });

  const descOf = (p: { manifestDigest: string; mediaType: string; manifestRaw: string }): Descriptor => ({
    mediaType: p.mediaType,
    digest: p.manifestDigest,
    size: Buffer.byteLength(p.manifestRaw),
  });

  it('resolves tags to what skopeo pushed (OCI, Docker v2s2, OCI index, Docker list)', async () => {
    const f = registry.fetcher();
    const table: [string, { manifestDigest: string; mediaType: string; manifestRaw: string }, string][] = [
      ['test/busybox:oci', oci, OCI_MANIFEST],
      ['test/busybox:v2s2', v2s2, DOCKER_MANIFEST],
      ['test/multi:oci', ociIndex, OCI_INDEX],
      ['test/multi:v2s2', dockerList, DOCKER_LIST],
    ];
    for (const [name, pushed, type] of table) {
      const desc = await f.resolve(ctx(), parseReference(`${reg.host}/${name}`));
      assert.deepEqual(desc, descOf(pushed), name);
      assert.equal(desc.mediaType, type, name);
    }
  });

  it('resolves by digest, and by tag@digest', async () => {
    const f = registry.fetcher();
    for (const pushed of [oci, v2s2, ociIndex]) {
      const repo = pushed.ref.slice(0, pushed.ref.lastIndexOf(':'));
      assert.deepEqual(await f.resolve(ctx(), parseReference(`${repo}@${pushed.manifestDigest}`)), descOf(pushed));
      assert.deepEqual(await f.resolve(ctx(), parseReference(`${pushed.ref}@${pushed.manifestDigest}`)), descOf(pushed));
    }
  });

  it('fetches manifests and blobs whose bytes hash to their digests', async () => {
    const f = registry.fetcher();
    for (const pushed of [oci, v2s2, ...ociIndex.images]) {
      const ref = parseReference(pushed.ref);
      const raw = await f.fetchManifest(ctx(), ref, descOf(pushed));
      assert.equal(sha256(raw), pushed.manifestDigest);
      assert.equal(raw.toString(), pushed.manifestRaw);
      const manifest = JSON.parse(raw.toString()) as { config: Descriptor; layers: Descriptor[] };
      for (const d of [manifest.config, ...manifest.layers]) {
        const blob = await f.fetchBlob(ctx(), ref, d);
        assert.equal(blob.offset, 0);
        assert.equal(blob.size, d.size);
        const bytes = await readAll(blob.body);
        assert.equal(bytes.length, d.size);
        assert.equal(sha256(bytes), d.digest);
      }
    }
    const index = await f.fetchManifest(ctx(), parseReference(ociIndex.ref), descOf(ociIndex));
    assert.equal(sha256(index), ociIndex.manifestDigest);
  });

  it('resumes a blob from an offset (Range → 206, the tail)', async () => {
    const f = registry.fetcher();
    const ref = parseReference(oci.ref);
    const manifest = JSON.parse(oci.manifestRaw) as { layers: Descriptor[] };
    const layer = manifest.layers[0];
    const whole = await readAll((await f.fetchBlob(ctx(), ref, layer)).body);
    const at = Math.floor(layer.size / 3);
    const tail = await f.fetchBlob(ctx(), ref, layer, at);
    assert.equal(tail.offset, at);
    assert.equal(tail.size, layer.size);
    assert.deepEqual(await readAll(tail.body), whole.subarray(at));
    const end = await f.fetchBlob(ctx(), ref, layer, layer.size);
    assert.equal((await readAll(end.body)).length, 0);
  });

  it('reports unknown tags, repositories, manifests and blobs as NotFound naming them', async () => {
    const f = registry.fetcher();
    const missing = sha256('nothing here');
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        () => f.resolve(ctx(), parseReference(`${reg.host}/test/busybox:nope`)),
        new RegExp(`^manifest unknown: ${reg.host}/test/busybox:nope$`),
      ],
      // distribution 2.8 says MANIFEST_UNKNOWN (not NAME_UNKNOWN) for a repository it never saw.
      [() => f.resolve(ctx(), parseReference(`${reg.host}/no/such:1`)), new RegExp(`^manifest unknown: ${reg.host}/no/such:1$`)],
      [() => f.resolve(ctx(), parseReference(`${reg.host}/test/busybox@${missing}`)), /manifest unknown: .*test\/busybox@sha256:/],
      [
        () => f.fetchBlob(ctx(), parseReference(oci.ref), { mediaType: 'x', digest: missing, size: 3 }),
        new RegExp(`blob unknown to registry: ${reg.host}/test/busybox@${missing}`),
      ],
    ];
    for (const [p, message] of cases) {
      await assert.rejects(p(), (e: Error) => {
        assert.ok(isNotFound(e), `${kindOf(e)}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      });
    }
  });

  it('retries through a registry restart, with pooled connections gone stale', async () => {
    const log: string[] = [];
    const r = createRegistry({ certsDir }, { logger: createLogger('debug', (l) => log.push(l)) });
    cleanup.defer(() => r.close());
    const f = r.fetcher();
    const ref = parseReference(oci.ref);
    await f.resolve(ctx(), ref);
    // Graceful restart: the pooled keep-alive socket is now dead.
    await reg.restart();
    assert.deepEqual(await f.resolve(ctx(), ref), descOf(oci));
    // Crash, and come back while the client is retrying (refused meanwhile).
    reg.kill('SIGKILL');
    await reg.proc.waitForExit();
    const pending = f.resolve(ctx(), ref);
    await waitFor(() => log.some((l) => /registry request retry".*reason=ECONNREFUSED/.test(l)), {
      what: 'a refused retry',
      timeoutMs: 20_000,
    });
    await reg.restart();
    assert.deepEqual(await pending, descOf(oci));
    assert.ok(
      log.some((l) => /registry request retry".*reason=ECONNREFUSED/.test(l)),
      log.join(''),
    );
  });

  it('cancels: before the request, while retrying, and mid-stream', async () => {
    const f = registry.fetcher();
    const ref = parseReference(oci.ref);
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(f.resolve({ signal: aborted.signal }, ref), (e: Error) => isCancelled(e));

    // Registry down: the client backs off; the abort must cut the wait short.
    reg.kill('SIGKILL');
    await reg.proc.waitForExit();
    try {
      const r = createRegistry({ certsDir }, { backoff: { baseMs: 2_000, maxMs: 2_000 } });
      cleanup.defer(() => r.close());
      const started = Date.now();
      await assert.rejects(r.fetcher().resolve({ signal: AbortSignal.timeout(300) }, ref), (e: Error) => isCancelled(e));
      assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
    } finally {
      await reg.restart();
    }

    const layer = (JSON.parse(oci.manifestRaw) as { layers: Descriptor[] }).layers[0];
    const ac = new AbortController();
    const blob = await f.fetchBlob({ signal: ac.signal }, ref, layer);
    ac.abort();
    await assert.rejects(readAll(blob.body), (e: Error) => e.name === 'AbortError');
  });
});
