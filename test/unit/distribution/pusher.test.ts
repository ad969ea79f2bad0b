// The pusher against a small local server playing a registry whose upload
// sessions survive a cut request (distribution 2.8, used by the integration
// tests, refuses such a session; other registries resume it): chunks,
// resume from the status Range, monolithic uploads, mounts, and the errors
// a user must be able to read.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type * as http from 'node:http';
import type { Registry } from '../../../runtime/distribution/distribution';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry } from '../../../runtime/distribution/registry';
import { FakeServer, json, startFakeServer } from './fakeServer';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ctx = () => ({ signal: new AbortController().signal });
const BLOB = '0123456789abcdefghijklmnopqrstuvwxyz';
const DESC = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(BLOB), size: BLOB.length };
const read = async (offset: number, length: number) => Buffer.from(BLOB.slice(offset, offset + length));

interface FakeUploads {
  stored: string;
  /** Cut the first PATCH after storing this many of its bytes. */
  cutFirstPatchAt?: number;
  patches: number;
}

/** A registry with one resumable upload session at /v2/a/b/blobs/uploads/u1. */
function uploadHandler(state: FakeUploads): (req: http.IncomingMessage, res: http.ServerResponse, n: number, body: string) => void {
  const location = '/v2/a/b/blobs/uploads/u1';
  return (req, res, _n, body) => {
    const url = new URL(req.url ?? '', 'http://x');
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST' && url.searchParams.get('mount')) {
      return void res.writeHead(201, { location: `/v2/a/b/blobs/${url.searchParams.get('mount')}`, 'content-length': 0 }).end();
    }
    if (req.method === 'POST') return void res.writeHead(202, { location, 'content-length': 0 }).end();
    if (req.method === 'PATCH') {
      state.patches++;
      const start = Number(String(req.headers['content-range']).split('-')[0]);
      if (start !== state.stored.length) return void res.writeHead(416, { 'content-length': 0 }).end();
      if (state.patches === 1 && state.cutFirstPatchAt !== undefined) {
        state.stored += body.slice(0, state.cutFirstPatchAt);
        req.socket.destroy();
        return;
      }
      state.stored += body;
      return void res.writeHead(202, { location, range: `0-${state.stored.length - 1}`, 'content-length': 0 }).end();
    }
    if (req.method === 'GET' && url.pathname === location) {
      return void res.writeHead(204, { location, range: `0-${state.stored.length - 1}` }).end();
    }
    if (req.method === 'PUT' && url.pathname === location) {
      state.stored += body;
      if (sha256(state.stored) !== url.searchParams.get('digest')) {
        return json(res, 400, { errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] });
      }
      return void res.writeHead(201, { 'docker-content-digest': sha256(state.stored), 'content-length': 0 }).end();
    }
    res.writeHead(500).end();
  };
}

describe('distribution/pusher (local fake registries)', () => {
  const servers: FakeServer[] = [];
  let registry: Registry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const serve = async (handler: Parameters<typeof startFakeServer>[0]) => {
    const s = await startFakeServer(handler);
    servers.push(s);
    return s;
  };
  const pusher = () => {
    registry = createRegistry({ certsDir: os.tmpdir(), maxRetries: 1 }, { backoff: { baseMs: 5, maxMs: 10 } });
    return registry.pusher();
  };

  it('sends a small blob in one PUT with its digest', async () => {
    const state: FakeUploads = { stored: '', patches: 0 };
    const s = await serve(uploadHandler(state));
    const result = await pusher().upload(ctx(), parseReference(`${s.host}/a/b:1`), DESC, read, [], { chunkSize: 1024 });
    assert.deepEqual(result, { kind: 'pushed' });
    assert.equal(state.stored, BLOB);
    assert.deepEqual(
      s.requests.map((r) => r.method),
      ['POST', 'PUT'],
    );
  });

  it('sends a large blob in PATCH chunks with Content-Range, then PUT', async () => {
    const state: FakeUploads = { stored: '', patches: 0 };
    const s = await serve(uploadHandler(state));
    const seen: number[] = [];
    await pusher().upload(ctx(), parseReference(`${s.host}/a/b:1`), DESC, read, [], { chunkSize: 10, onProgress: (o) => seen.push(o) });
    assert.equal(state.stored, BLOB);
    assert.deepEqual(
      s.requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-range']),
      ['0-9', '10-19', '20-29', '30-35'],
    );
    assert.deepEqual(seen, [10, 20, 30, 36, 36]);
  });

  it('streams a blob over 16 MiB in one PATCH, reading it in pieces, then PUT', async () => {
    const big = 'abcdefghij'.repeat(1_800_000);
    const desc = { ...DESC, digest: sha256(big), size: big.length };
    const reads: number[] = [];
    const readBig = async (offset: number, length: number) => {
      reads.push(length);
      return Buffer.from(big.slice(offset, offset + length));
    };
    const state: FakeUploads = { stored: '', patches: 0 };
    const s = await serve(uploadHandler(state));
    const seen: number[] = [];
    await pusher().upload(ctx(), parseReference(`${s.host}/a/b:1`), desc, readBig, [], { onProgress: (o) => seen.push(o) });
    assert.equal(state.stored, big);
    assert.deepEqual(
      s.requests
        .filter((r) => r.method !== 'HEAD')
        .map((r) => `${r.method}${r.headers['content-range'] ? ` ${r.headers['content-range']}` : ''}`),
      ['POST', `PATCH 0-${big.length - 1}`, 'PUT'],
    );
    // Never the whole blob in memory: pieces of at most 1 MiB; progress as they go out.
    assert.ok(Math.max(...reads) <= 1024 * 1024, `largest read ${Math.max(...reads)}`);
    assert.ok(seen.length > 10 && seen[seen.length - 1] === big.length, `progress ${seen.length} steps`);
  });

  it('after a cut PATCH, asks the upload status and resumes at the Range it reports', async () => {
    const state: FakeUploads = { stored: '', patches: 0, cutFirstPatchAt: 4 };
    const s = await serve(uploadHandler(state));
    await pusher().upload(ctx(), parseReference(`${s.host}/a/b:1`), DESC, read, [], { chunkSize: 10 });
    assert.equal(state.stored, BLOB);
    const trail = s.requests
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method}${r.headers['content-range'] ? ` ${r.headers['content-range']}` : ''}`);
    assert.deepEqual(trail.slice(0, 4), ['POST', 'PATCH 0-9', 'GET', 'PATCH 4-13']);
  });

  it('mounts from a repository that has the blob instead of uploading', async () => {
    const state: FakeUploads = { stored: '', patches: 0 };
    const s = await serve(uploadHandler(state));
    const result = await pusher().upload(ctx(), parseReference(`${s.host}/a/b:1`), DESC, read, ['a/b', 'other/repo']);
    assert.deepEqual(result, { kind: 'mounted', from: 'other/repo' });
    assert.equal(s.requests.length, 1);
    assert.match(s.requests[0].url, /mount=sha256%3A[a-f0-9]{64}&from=other%2Frepo/);
  });

  it("reports the registry's digest mismatch", async () => {
    const state: FakeUploads = { stored: 'junk', patches: 0 };
    const s = await serve(uploadHandler(state));
    await assert.rejects(
      pusher().upload(ctx(), parseReference(`${s.host}/a/b:1`), DESC, read, [], { chunkSize: 1024 }),
      (e: Error) => /provided digest did not match uploaded content/.test(e.message) && (e as { kind?: string }).kind === 'InvalidArgument',
    );
  });

  it('names the registry and the push scope when access is refused', async () => {
    const s = await serve((_q, res) =>
      json(res, 403, { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }),
    );
    await assert.rejects(pusher().exists(ctx(), parseReference(`${s.host}/a/b:1`), DESC), (e: Error) => {
      assert.match(e.message, new RegExp(`push access denied to ${s.host.replace(/\./g, '\\.')}/a/b`));
      assert.match(e.message, /scope repository:a\/b:pull,push/);
      assert.equal((e as { kind?: string }).kind, 'PermissionDenied');
      return true;
    });
  });
});
