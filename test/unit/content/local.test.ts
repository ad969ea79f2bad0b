import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from '../../../runtime/content/local';
import { isGantryError, type ErrorKind } from '../../../runtime/errdefs/errdefs';

const ctx = { signal: new AbortController().signal };
const sha256 = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const kind = (k: ErrorKind) => (e: unknown) => isGantryError(e) && e.kind === k;

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('LocalStore (content)', () => {
  let root: string;
  let store: LocalStore;
  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'content-'));
    store = await LocalStore.open(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('makes a blob visible only after a verified commit', async () => {
    const data = Buffer.from('hello, content');
    const digest = sha256(data);
    const writer = await store.writer(ctx, { ref: 'r1', expected: { digest, size: data.length } });
    await writer.write(data.subarray(0, 5));
    await assert.rejects(store.info(ctx, digest), kind('NotFound'));
    assert.equal((await store.status(ctx, 'r1')).offset, 5);
    await writer.write(data.subarray(5));
    await writer.commit(data.length, digest);
    const info = await store.info(ctx, digest);
    assert.equal(info.size, data.length);
    assert.deepEqual(await readStream(await store.read(ctx, digest)), data);
    assert.deepEqual(await store.listStatuses(ctx), []);
    assert.equal(fs.statSync(store.blobPath(digest)).mode & 0o777, 0o444);
  });

  it('refuses a commit whose bytes do not match the digest and leaves nothing behind', async () => {
    const digest = sha256('the real bytes');
    const writer = await store.writer(ctx, { ref: 'bad', expected: { digest, size: 14 } });
    await writer.write(Buffer.from('tampered bytes'));
    await assert.rejects(writer.commit(14, digest), (e: unknown) => kind('DataLoss')(e) && /digest mismatch/.test(String(e)));
    await assert.rejects(store.info(ctx, digest), kind('NotFound'));
    assert.deepEqual(await store.listStatuses(ctx), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'blobs')), []);
  });

  it('refuses a commit with the wrong size', async () => {
    const data = Buffer.from('abc');
    const writer = await store.writer(ctx, { ref: 'short' });
    await writer.write(data);
    await assert.rejects(writer.commit(4, sha256(data)), (e: unknown) => kind('DataLoss')(e) && /size mismatch/.test(String(e)));
  });

  it('resumes a partial ingest after the writer closed and after a restart', async () => {
    const data = Buffer.alloc(100_000, 7);
    const digest = sha256(data);
    const first = await store.writer(ctx, { ref: 'layer', expected: { digest, size: data.length } });
    await first.write(data.subarray(0, 30_000));
    await first.close();
    // A "restarted daemon": a new store over the same directory.
    const reopened = await LocalStore.open(root);
    const second = await reopened.writer(ctx, { ref: 'layer', expected: { digest, size: data.length } });
    assert.equal(second.offset, 30_000);
    await second.write(data.subarray(30_000));
    await second.commit(data.length, digest);
    assert.equal((await reopened.info(ctx, digest)).size, data.length);
  });

  it('restarts an ingest from zero when told via truncate (server ignored Range)', async () => {
    const data = Buffer.from('0123456789');
    const writer = await store.writer(ctx, { ref: 't' });
    await writer.write(Buffer.from('garbage'));
    await writer.truncate();
    await writer.write(data);
    await writer.commit(data.length, sha256(data));
    assert.deepEqual(await store.readAll(ctx, sha256(data), 100), data);
  });

  it('allows one writer per ref', async () => {
    const writer = await store.writer(ctx, { ref: 'busy' });
    await assert.rejects(store.writer(ctx, { ref: 'busy' }), kind('Unavailable'));
    await writer.close();
    await (await store.writer(ctx, { ref: 'busy' })).close();
  });

  it('reports AlreadyExists when committing content that is present, discarding the ingest', async () => {
    const data = Buffer.from('dup');
    for (const ref of ['a', 'b']) {
      const writer = await store.writer(ctx, { ref });
      await writer.write(data);
      if (ref === 'a') await writer.commit(3, sha256(data));
      else await assert.rejects(writer.commit(3, sha256(data)), kind('AlreadyExists'));
    }
    assert.deepEqual(await store.listStatuses(ctx), []);
  });

  it('never turns a digest into a path outside the store', async () => {
    for (const bad of ['../../etc/passwd', 'sha256:../../x', 'sha256:ABC', 'md5:' + 'a'.repeat(32), '']) {
      await assert.rejects(store.info(ctx, bad), kind('InvalidArgument'), bad);
      await assert.rejects(store.delete(ctx, bad), kind('InvalidArgument'), bad);
    }
  });

  it('removes expired ingests at start-up and keeps fresh ones', async () => {
    const stale = await store.writer(ctx, { ref: 'stale' });
    await stale.write(Buffer.from('x'));
    await stale.close();
    const fresh = await store.writer(ctx, { ref: 'fresh' });
    await fresh.write(Buffer.from('y'));
    await fresh.close();
    const old = new Date(Date.now() - 48 * 3600 * 1000);
    const staleDir = fs
      .readdirSync(path.join(root, 'ingest'))
      .find((d) => fs.readFileSync(path.join(root, 'ingest', d, 'meta'), 'utf8').includes('"stale"'))!;
    fs.utimesSync(path.join(root, 'ingest', staleDir, 'data'), old, old);
    const reopened = await LocalStore.open(root);
    assert.deepEqual(
      (await reopened.listStatuses(ctx)).map((s) => s.ref),
      ['fresh'],
    );
  });

  it('walks, labels, reads whole with a size limit, and deletes', async () => {
    const blobs = ['one', 'two', 'three'].map((s) => Buffer.from(s));
    for (const [i, data] of blobs.entries()) {
      const writer = await store.writer(ctx, { ref: `w${i}` });
      await writer.write(data);
      await writer.commit(data.length, sha256(data), i === 0 ? { note: 'first' } : undefined);
    }
    const seen: string[] = [];
    await store.walk(ctx, (info) => void seen.push(info.digest));
    assert.deepEqual(seen.sort(), blobs.map((b) => sha256(b)).sort());
    assert.deepEqual((await store.info(ctx, sha256(blobs[0]))).labels, { note: 'first' });
    await store.setLabels(ctx, sha256(blobs[1]), { gc: 'keep' });
    assert.deepEqual((await store.info(ctx, sha256(blobs[1]))).labels, { gc: 'keep' });
    await assert.rejects(store.readAll(ctx, sha256(blobs[2]), 2), kind('ResourceExhausted'));
    await store.delete(ctx, sha256(blobs[0]));
    await assert.rejects(store.info(ctx, sha256(blobs[0])), kind('NotFound'));
    await assert.rejects(store.delete(ctx, sha256(blobs[0])), kind('NotFound'));
  });
});
