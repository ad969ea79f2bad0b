// The fetcher against small local servers playing registries that misbehave
// on purpose: missing headers, lying lengths, odd media types, redirects to
// another host, auth challenges, revoked tokens.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type * as http from 'node:http';
import { isInvalidArgument, isNotFound, kindOf } from '../../../runtime/errdefs/errdefs';
import { type Descriptor, MAX_MANIFEST_BYTES, MediaTypes } from '../../../runtime/oci/descriptor';
import type { Registry, RegistryAuth } from '../../../runtime/distribution/distribution';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry, RegistryDeps } from '../../../runtime/distribution/registry';
import { FakeServer, json, startFakeServer } from './fakeServer';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ctx = () => ({ signal: new AbortController().signal });
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: {}, layers: [] }));
const BLOB = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

describe('distribution/fetcher (local fake registries)', () => {
  const servers: FakeServer[] = [];
  let registry: Registry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  const serve = async (handler: Parameters<typeof startFakeServer>[0], bind?: string) => {
    const s = await startFakeServer(handler, { bind });
    servers.push(s);
    return s;
  };
  const client = (deps: RegistryDeps = {}) => {
    registry = createRegistry({ certsDir: os.tmpdir(), maxRetries: 1 }, { backoff: { baseMs: 5, maxMs: 10 }, ...deps });
    return registry;
  };
  const fetcherFor = (creds?: RegistryAuth) => client().fetcher(creds ? () => creds : undefined);

  describe('resolve', () => {
    it('uses HEAD alone when it carries digest, type and length', async () => {
      const s = await serve((_q, res) => {
        res.writeHead(200, {
          'docker-content-digest': sha256(MANIFEST),
          'content-type': `${MediaTypes.ociManifest}; charset=utf-8`,
          'content-length': MANIFEST.length,
        });
        res.end();
      });
      const desc = await fetcherFor().resolve(ctx(), parseReference(`${s.host}/a/b:1`));
      assert.deepEqual(desc, { mediaType: MediaTypes.ociManifest, digest: sha256(MANIFEST), size: MANIFEST.length });
      assert.deepEqual(
        s.requests.map((r) => `${r.method} ${r.url}`),
        ['HEAD /v2/a/b/manifests/1'],
      );
      assert.match(String(s.requests[0].headers.accept), /application\/vnd\.oci\.image\.index\.v1\+json/);
    });

    it('falls back to GET and hashes the body when HEAD has no digest', async () => {
      const s = await serve((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': MANIFEST.length });
        res.end(req.method === 'GET' ? MANIFEST : undefined);
      });
      const desc = await fetcherFor().resolve(ctx(), parseReference(`${s.host}/a/b:1`));
      // Labelled application/json: the body's mediaType decides.
      assert.deepEqual(desc, { mediaType: MediaTypes.ociManifest, digest: sha256(MANIFEST), size: MANIFEST.length });
      assert.deepEqual(
        s.requests.map((r) => r.method),
        ['HEAD', 'GET'],
      );
    });

    it('refuses media types other than manifests and indexes', async () => {
      const s = await serve((_q, res) => {
        res.writeHead(200, {
          'docker-content-digest': sha256('x'),
          'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws',
          'content-length': 1,
        });
        res.end();
      });
      await assert.rejects(fetcherFor().resolve(ctx(), parseReference(`${s.host}/a/b:1`)), (e: Error) => {
        assert.ok(isInvalidArgument(e));
        assert.match(e.message, /unsupported media type application\/vnd\.docker\.distribution\.manifest\.v1\+prettyjws/);
        return true;
      });
    });

    it('refuses a digest other than the one asked for', async () => {
      const s = await serve((_q, res) => {
        res.writeHead(200, { 'docker-content-digest': sha256('other'), 'content-type': MediaTypes.ociManifest, 'content-length': 5 });
        res.end();
      });
      await assert.rejects(
        fetcherFor().resolve(ctx(), parseReference(`${s.host}/a/b@${sha256(MANIFEST)}`)),
        (e: Error) => kindOf(e) === 'DataLoss',
      );
    });

    it('names the reference and the registry error on 404', async () => {
      const s = await serve((req, res) => {
        if (req.method === 'HEAD') return void res.writeHead(404).end();
        json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'nope' } }] });
      });
      await assert.rejects(fetcherFor().resolve(ctx(), parseReference(`${s.host}/test/busybox:nope`)), (e: Error) => {
        assert.ok(isNotFound(e));
        assert.equal(e.message, `manifest unknown: ${s.host}/test/busybox:nope`);
        return true;
      });
    });

    it('maps 403 to PermissionDenied', async () => {
      const s = await serve((_q, res) =>
        json(res, 403, { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }),
      );
      await assert.rejects(fetcherFor().resolve(ctx(), parseReference(`${s.host}/a/b:1`)), (e: Error) => {
        assert.equal(kindOf(e), 'PermissionDenied');
        assert.match(e.message, /requested access to the resource is denied: 127\.0\.0\.1:\d+\/a\/b:1/);
        return true;
      });
    });
  });

  describe('fetchManifest', () => {
    const desc = (size: number): Descriptor => ({ mediaType: MediaTypes.ociManifest, digest: sha256(MANIFEST), size });

    it('returns the bytes when the length matches', async () => {
      const s = await serve((_q, res) => res.end(MANIFEST));
      const got = await fetcherFor().fetchManifest(ctx(), parseReference(`${s.host}/a/b:1`), desc(MANIFEST.length));
      assert.deepEqual(got, MANIFEST);
      assert.equal(s.requests[0].url, `/v2/a/b/manifests/${sha256(MANIFEST)}`);
    });

    it('refuses a declared Content-Length over the limit without reading it', async () => {
      const s = await serve((_q, res) => {
        res.writeHead(200, { 'content-length': MAX_MANIFEST_BYTES + 1 });
        res.write(Buffer.alloc(1024));
      });
      await assert.rejects(fetcherFor().fetchManifest(ctx(), parseReference(`${s.host}/a/b:1`), desc(0)), (e: Error) => {
        assert.ok(isInvalidArgument(e));
        assert.match(e.message, /larger than the 4194304-byte limit/);
        return true;
      });
    });

    it('counts bytes when the server sends no length (chunked) and stops past the limit', async () => {
      const s = await serve((_q, res) => {
        const chunk = Buffer.alloc(256 * 1024, 0x20);
        for (let i = 0; i < 17; i++) res.write(chunk);
        res.end();
      });
      await assert.rejects(fetcherFor().fetchManifest(ctx(), parseReference(`${s.host}/a/b:1`), desc(0)), (e: Error) =>
        isInvalidArgument(e),
      );
    });

    it('refuses a body whose length differs from the descriptor', async () => {
      const s = await serve((_q, res) => res.end(MANIFEST));
      await assert.rejects(
        fetcherFor().fetchManifest(ctx(), parseReference(`${s.host}/a/b:1`), desc(MANIFEST.length + 1)),
        (e: Error) => kindOf(e) === 'DataLoss',
      );
    });

    it('refuses a descriptor over the limit without asking', async () => {
      const s = await serve((_q, res) => res.end(MANIFEST));
      await assert.rejects(fetcherFor().fetchManifest(ctx(), parseReference(`${s.host}/a/b:1`), desc(MAX_MANIFEST_BYTES + 1)), (e: Error) =>
        isInvalidArgument(e),
      );
      assert.equal(s.requests.length, 0);
    });
  });

  describe('fetchBlob', () => {
    const blob: Descriptor = { mediaType: MediaTypes.ociLayerGzip, digest: sha256(BLOB), size: BLOB.length };
    const rangeServer = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (!m) return void res.end(BLOB);
      const start = Number(m[1]);
      res.writeHead(206, { 'content-range': `bytes ${start}-${BLOB.length - 1}/${BLOB.length}`, 'content-length': BLOB.length - start });
      res.end(BLOB.subarray(start));
    };

    it('resumes from an offset with Range (206)', async () => {
      const s = await serve(rangeServer);
      const got = await fetcherFor().fetchBlob(ctx(), parseReference(`${s.host}/a/b:1`), blob, 10);
      assert.equal(got.offset, 10);
      assert.equal(got.size, BLOB.length);
      assert.deepEqual(Buffer.from(await got.body.toArray().then((c) => Buffer.concat(c))), BLOB.subarray(10));
      assert.equal(s.requests[0].headers.range, 'bytes=10-');
    });

    it('reports offset 0 when the registry ignores Range (200)', async () => {
      const s = await serve((_q, res) => res.end(BLOB));
      const got = await fetcherFor().fetchBlob(ctx(), parseReference(`${s.host}/a/b:1`), blob, 10);
      assert.equal(got.offset, 0);
      assert.deepEqual(Buffer.concat(await got.body.toArray()), BLOB);
    });

    it('follows redirects, dropping Authorization on another host', async () => {
      const storage = await serve((_q, res) => res.end(BLOB), '127.0.0.2');
      const s = await serve((req, res) => {
        if (req.headers.authorization !== 'Basic dTpw') return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
        if (req.url === '/v2/a/b/blobs/' + blob.digest) return void res.writeHead(307, { location: '/hop' }).end();
        res.writeHead(302, { location: `${storage.url}/signed?x=1` }).end();
      });
      const got = await fetcherFor({ username: 'u', password: 'p' }).fetchBlob(ctx(), parseReference(`${s.host}/a/b:1`), blob);
      assert.deepEqual(Buffer.concat(await got.body.toArray()), BLOB);
      assert.deepEqual(
        s.requests.map((r) => [r.url, r.headers.authorization]),
        [
          [`/v2/a/b/blobs/${blob.digest}`, undefined],
          [`/v2/a/b/blobs/${blob.digest}`, 'Basic dTpw'],
          ['/hop', 'Basic dTpw'],
        ],
      );
      assert.deepEqual(
        storage.requests.map((r) => [r.url, r.headers.authorization]),
        [['/signed?x=1', undefined]],
      );
    });

    it('gives up after 5 redirects', async () => {
      const s = await serve((_q, res) => res.writeHead(302, { location: '/again' }).end());
      await assert.rejects(fetcherFor().fetchBlob(ctx(), parseReference(`${s.host}/a/b:1`), blob), (e: Error) => {
        assert.equal(kindOf(e), 'Unavailable');
        assert.match(e.message, /more than 5 redirects/);
        return true;
      });
      assert.equal(s.requests.length, 6);
    });

    it('names the blob on 404', async () => {
      const s = await serve((_q, res) => json(res, 404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
      await assert.rejects(fetcherFor().fetchBlob(ctx(), parseReference(`${s.host}/a/b:1`), blob), (e: Error) => {
        assert.ok(isNotFound(e));
        assert.equal(e.message, `blob unknown to registry: ${s.host}/a/b@${blob.digest}`);
        return true;
      });
    });
  });

  describe('auth', () => {
    /** A Bearer registry whose token server issues t1, t2, … and accepts only the newest unless told otherwise. */
    async function bearerRegistry(opts: { acceptAll?: boolean } = {}) {
      let issued = 0;
      const tokens = await serve((req, res) => {
        issued++;
        json(res, 200, req.method === 'POST' ? { access_token: `t${issued}`, expires_in: 300 } : { token: `t${issued}`, expires_in: 300 });
      });
      const reg = await serve((req, res) => {
        const ok = opts.acceptAll
          ? /^Bearer t\d+$/.test(req.headers.authorization ?? '')
          : req.headers.authorization === `Bearer t${issued}`;
        if (!ok) {
          res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokens.url}/token",service="fake",scope="repository:a/b:pull"` });
          return void res.end();
        }
        res.writeHead(200, {
          'docker-content-digest': sha256(MANIFEST),
          'content-type': MediaTypes.ociManifest,
          'content-length': MANIFEST.length,
        });
        res.end(req.method === 'GET' ? MANIFEST : undefined);
      });
      return { tokens, reg, revoke: () => issued++ };
    }

    it('Basic: 401 → retry with credentials; later requests send them up front', async () => {
      const s = await serve((req, res) => {
        if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
          return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
        }
        res
          .writeHead(200, { 'docker-content-digest': sha256(MANIFEST), 'content-type': MediaTypes.ociManifest, 'content-length': 3 })
          .end();
      });
      const f = fetcherFor({ username: 'u', password: 'p' });
      await f.resolve(ctx(), parseReference(`${s.host}/a/b:1`));
      await f.resolve(ctx(), parseReference(`${s.host}/a/b:2`));
      assert.deepEqual(
        s.requests.map((r) => r.headers.authorization === undefined),
        [true, false, false],
      );
    });

    it('Basic without credentials → Unauthenticated', async () => {
      const s = await serve((_q, res) =>
        json(
          res,
          401,
          { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] },
          { 'www-authenticate': 'Basic realm="r"' },
        ),
      );
      await assert.rejects(fetcherFor().resolve(ctx(), parseReference(`${s.host}/a/b:1`)), (e: Error) => {
        assert.equal(kindOf(e), 'Unauthenticated');
        assert.match(e.message, /^authentication required: /);
        return true;
      });
    });

    it('Bearer: caches the token; a 401 on a cached token fetches a new one and retries once', async () => {
      const { tokens, reg, revoke } = await bearerRegistry();
      const f = fetcherFor({ username: 'u', password: 'p' });
      const ref = parseReference(`${reg.host}/a/b:1`);
      await f.resolve(ctx(), ref);
      await f.resolve(ctx(), ref);
      assert.equal(tokens.requests.length, 1);
      const t = new URL(tokens.requests[0].url, 'http://x');
      assert.deepEqual([t.searchParams.get('service'), t.searchParams.getAll('scope')], ['fake', ['repository:a/b:pull']]);
      assert.equal(tokens.requests[0].headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      revoke();
      await f.resolve(ctx(), ref);
      assert.equal(tokens.requests.length, 2);
      assert.deepEqual(
        reg.requests.map((r) => r.headers.authorization),
        [undefined, 'Bearer t1', 'Bearer t1', 'Bearer t1', 'Bearer t3'],
      );
    });

    it('Bearer tokens are per credential identity and expire', async () => {
      const { tokens, reg } = await bearerRegistry({ acceptAll: true });
      let now = Date.now();
      const r = client({ now: () => now });
      const ref = parseReference(`${reg.host}/a/b:1`);
      await r.fetcher(() => ({ username: 'u', password: 'p' })).resolve(ctx(), ref);
      await r.fetcher(() => ({ username: 'u', password: 'p' })).resolve(ctx(), ref);
      assert.equal(tokens.requests.length, 1);
      await r.fetcher(() => ({ username: 'v', password: 'q' })).resolve(ctx(), ref);
      assert.equal(tokens.requests.length, 2);
      now += 300_000;
      await r.fetcher(() => ({ username: 'u', password: 'p' })).resolve(ctx(), ref);
      assert.equal(tokens.requests.length, 3);
    });

    it('identity token → OAuth2 POST grant_type=refresh_token', async () => {
      const { tokens, reg } = await bearerRegistry();
      await fetcherFor({ identityToken: 'refresh-me' }).resolve(ctx(), parseReference(`${reg.host}/a/b:1`));
      assert.equal(tokens.requests[0].method, 'POST');
      const form = new URLSearchParams(tokens.requests[0].body);
      assert.deepEqual(
        [form.get('grant_type'), form.get('refresh_token'), form.get('service'), form.get('scope')],
        ['refresh_token', 'refresh-me', 'fake', 'repository:a/b:pull'],
      );
    });

    it('registryToken is sent as-is from the first request', async () => {
      const s = await serve((req, res) => {
        if (req.headers.authorization !== 'Bearer given')
          return void res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/x"' }).end();
        res
          .writeHead(200, { 'docker-content-digest': sha256(MANIFEST), 'content-type': MediaTypes.ociManifest, 'content-length': 3 })
          .end();
      });
      await fetcherFor({ registryToken: 'given' }).resolve(ctx(), parseReference(`${s.host}/a/b:1`));
      assert.equal(s.requests.length, 1);
    });

    it('login asks for a token without scope', async () => {
      const { tokens, reg } = await bearerRegistry();
      await client().login(ctx(), reg.host, { username: 'u', password: 'p' });
      assert.deepEqual(new URL(tokens.requests[0].url, 'http://x').searchParams.getAll('scope'), []);
      assert.equal(reg.requests.at(-1)!.url, '/v2/');
    });
  });
});
