// EarlyUnpack (runtime/images/archive/earlyUnpack.ts): a load starts unpacking an image
// as soon as the archive has carried its manifest and config, and hands each layer to
// the job once it is committed. A real content store; the unpacker is a recording fake.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from '../../../runtime/content/local';
import { EarlyUnpack } from '../../../runtime/images/archive/earlyUnpack';
import { hostPlatform } from '../../../runtime/images/platform';
import type { UnpackJob, Unpacker } from '../../../runtime/images/unpacker';
import type { Lease } from '../../../runtime/gc/gc';

const ctx = { signal: new AbortController().signal };
const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface FakeJob {
  layers: string[];
  diffIds: string[];
  /** index → undefined (fetched) or the error it was failed with. */
  fetched: Map<number, unknown>;
  aborted: unknown[];
  job: UnpackJob;
}

function fakeUnpacker(): { unpacker: Unpacker; jobs: FakeJob[] } {
  const jobs: FakeJob[] = [];
  const unpacker = {
    snapshotterName: 'fake',
    start(_ctx: unknown, layers: { digest: string }[], diffIds: string[]): UnpackJob {
      const fake: FakeJob = {
        layers: layers.map((l) => l.digest),
        diffIds: [...diffIds],
        fetched: new Map(),
        aborted: [],
        job: undefined!,
      };
      fake.job = {
        chain: diffIds.map((d) => `chain-${d}`),
        done: Promise.resolve('top'),
        layerFetched: (i: number, error?: unknown) => fake.fetched.set(i, error),
        abort: (reason: unknown) => fake.aborted.push(reason),
      } as unknown as UnpackJob;
      jobs.push(fake);
      return fake.job;
    },
  } as unknown as Unpacker;
  return { unpacker, jobs };
}

describe('EarlyUnpack (load: unpack while the archive is read)', () => {
  let root: string;
  let store: LocalStore;
  let leased: string[];
  const lease: Lease = { add: (d) => leased.push(d), release: () => undefined };

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'early-'));
    store = await LocalStore.open(root);
    leased = [];
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  async function put(data: Buffer): Promise<{ digest: string; size: number; first: Buffer }> {
    const digest = sha256(data);
    const writer = await store.writer(ctx, { ref: digest, expected: { digest, size: data.length } });
    await writer.write(data);
    await writer.commit(data.length, digest);
    return { digest, size: data.length, first: data.subarray(0, 4) };
  }

  function image(layerCount: number, platform = hostPlatform()) {
    const layers = Array.from({ length: layerCount }, (_, i) => Buffer.from(`\x1f\x8blayer ${i} ${platform.architecture}`));
    const diffIds = layers.map((_, i) => sha256(`diff ${i} ${platform.architecture}`));
    const config = Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: diffIds } }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
      }),
    );
    return { layers, diffIds, config, manifest, manifestDigest: sha256(manifest) };
  }

  async function feed(early: EarlyUnpack, blobs: Buffer[]): Promise<void> {
    for (const b of blobs) {
      const s = await put(b);
      await early.stored(s.digest, s.size, s.first);
    }
  }

  it('starts the job once manifest and config are in, and releases each layer when it is committed', async () => {
    const { unpacker, jobs } = fakeUnpacker();
    const early = new EarlyUnpack(ctx, store, unpacker, lease);
    const img = image(3);
    await feed(early, [img.manifest]);
    assert.equal(jobs.length, 0, 'no config yet');
    await feed(early, [img.config]);
    assert.equal(jobs.length, 1);
    assert.deepEqual(jobs[0].diffIds, img.diffIds);
    assert.deepEqual(
      jobs[0].layers,
      img.layers.map((l) => sha256(l)),
    );
    assert.deepEqual(
      leased,
      img.diffIds.map((d) => `chain-${d}`),
      'the chain is leased',
    );
    await feed(early, [img.layers[0]]);
    assert.deepEqual([...jobs[0].fetched.keys()], [0], 'only the committed layer is released');
    await feed(early, [img.layers[1], img.layers[2]]);
    assert.deepEqual(
      [...jobs[0].fetched.entries()],
      [
        [0, undefined],
        [1, undefined],
        [2, undefined],
      ],
    );
    assert.equal(early.take(img.manifestDigest), jobs[0].job);
    assert.equal(early.take(img.manifestDigest), undefined, 'taken once');
    await early.close(new Error('end'));
    assert.deepEqual(jobs[0].aborted, [], 'a taken job is not stopped');
  });

  it('starts the job when the config came before its manifest, with layers already committed', async () => {
    const { unpacker, jobs } = fakeUnpacker();
    const early = new EarlyUnpack(ctx, store, unpacker, lease);
    const img = image(2);
    await feed(early, [img.layers[0], img.config, img.manifest]);
    assert.equal(jobs.length, 1);
    assert.deepEqual([...jobs[0].fetched.keys()], [0]);
    await feed(early, [img.layers[1]]);
    assert.deepEqual([...jobs[0].fetched.keys()], [0, 1]);
  });

  it("starts nothing for another platform's image", async () => {
    const { unpacker, jobs } = fakeUnpacker();
    const early = new EarlyUnpack(ctx, store, unpacker, lease);
    const other = hostPlatform().architecture === 'arm64' ? 'amd64' : 'arm64';
    const img = image(2, { os: 'linux', architecture: other });
    await feed(early, [img.manifest, img.config, ...img.layers]);
    assert.equal(jobs.length, 0);
    assert.equal(early.take(img.manifestDigest), undefined);
  });

  it('fails the layers the archive lacked and the store does not have; stops and awaits jobs nobody took', async () => {
    const { unpacker, jobs } = fakeUnpacker();
    const early = new EarlyUnpack(ctx, store, unpacker, lease);
    const img = image(2);
    await feed(early, [img.manifest, img.config, img.layers[0]]);
    await early.archiveRead();
    const missing = jobs[0].fetched.get(1) as Error;
    assert.match(missing.message, /archive is incomplete: it lacks blob sha256:/);
    const reason = new Error('load failed');
    await early.close(reason);
    assert.deepEqual(jobs[0].aborted, [reason]);
  });

  it('a layer the store already had (an image loaded again) counts as there', async () => {
    const { unpacker, jobs } = fakeUnpacker();
    const early = new EarlyUnpack(ctx, store, unpacker, lease);
    const img = image(2);
    await put(img.layers[1]);
    await feed(early, [img.manifest, img.config, img.layers[0]]);
    await early.archiveRead();
    assert.deepEqual(
      [...jobs[0].fetched.entries()],
      [
        [0, undefined],
        [1, undefined],
      ],
    );
  });
});
