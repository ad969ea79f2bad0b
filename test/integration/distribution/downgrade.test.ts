// Credentials never travel over a weaker channel than the registry's own:
// an HTTPS registry whose Bearer realm is plain http:, or that redirects a
// request on its own host to http:, is refused — unless the user named it
// with --insecure-registry. The registry here is a local HTTPS server with a
// test CA trusted through certs.d, as a user would set it up.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Registry, RegistryAuth } from '../../../runtime/distribution/distribution';
import { parseReference } from '../../../runtime/distribution/reference';
import { createRegistry } from '../../../runtime/distribution/registry';
import { kindOf } from '../../../runtime/errdefs/errdefs';
import { MediaTypes } from '../../../runtime/oci/descriptor';
import { issueCert, makeTestCA } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { FakeServer, json, startFakeServer, type Handler } from '../../unit/distribution/fakeServer';

const ctx = () => ({ signal: new AbortController().signal });
const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: {}, layers: [] }));
const BLOB = { mediaType: 'application/octet-stream', digest: `sha256:${'a'.repeat(64)}`, size: 3 };
const CREDS: RegistryAuth = { username: 'u', password: 'secret' };
const BASIC = `Basic ${Buffer.from('u:secret').toString('base64')}`;

describe('distribution: no credentials over a downgrade to plain HTTP', () => {
  const cleanup = suiteCleanup();
  let tls: { cert: Buffer; key: Buffer };
  let certsDir: string;
  let caPath: string;
  const servers: FakeServer[] = [];
  const registries: Registry[] = [];

  before(async () => {
    const dir = await makeTempDir('gdown', cleanup);
    const ca = await makeTestCA(path.join(dir, 'ca'));
    const issued = await issueCert(ca, path.join(dir, 'server'), 'registry');
    tls = { cert: fs.readFileSync(issued.certPath), key: fs.readFileSync(issued.keyPath) };
    certsDir = path.join(dir, 'certs.d');
    cleanup.defer(async () => {
      await Promise.all(registries.splice(0).map((r) => r.close()));
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });
    caPath = ca.caPath;
  });

  /** Trusts the test CA for `host`, as a user would: certs.d/<host:port>/ca.crt. */
  const trustCa = (host: string) => {
    fs.mkdirSync(path.join(certsDir, host), { recursive: true });
    fs.copyFileSync(caPath, path.join(certsDir, host, 'ca.crt'));
  };

  const serve = async (handler: Handler, opts: { https?: boolean } = {}) => {
    const s = await startFakeServer(handler, opts.https ? { tls } : {});
    servers.push(s);
    if (opts.https) trustCa(s.host);
    return s;
  };
  const open = (insecureRegistries: string[] = []) => {
    const r = createRegistry({ certsDir, insecureRegistries, maxRetries: 0 });
    registries.push(r);
    return r;
  };

  /** An HTTPS registry whose Bearer realm is a plain-HTTP token server. */
  const httpRealmRegistry = async () => {
    const tokens = await serve((_q, res) => json(res, 200, { token: 'tok', expires_in: 300 }));
    const reg = await serve(
      (req, res) => {
        if (req.headers.authorization !== 'Bearer tok') {
          return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${tokens.url}/token",service="s"` }).end();
        }
        res
          .writeHead(200, {
            'docker-content-digest': `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`,
            'content-type': MediaTypes.ociManifest,
            'content-length': MANIFEST.length,
          })
          .end();
      },
      { https: true },
    );
    return { tokens, reg };
  };

  it('refuses a plain-HTTP token realm for an HTTPS registry: the token server never sees the password', async () => {
    const { tokens, reg } = await httpRealmRegistry();
    await assert.rejects(
      open()
        .fetcher(() => CREDS)
        .resolve(ctx(), parseReference(`${reg.host}/a/b:1`)),
      (e: Error) => {
        assert.equal(kindOf(e), 'Unauthenticated', e.message);
        assert.match(e.message, /speaks HTTPS but sent a token realm on plain HTTP/);
        assert.ok(e.message.includes(`--insecure-registry ${reg.host}`), e.message);
        return true;
      },
    );
    assert.equal(tokens.requests.length, 0, 'the plain-HTTP realm received a request');
  });

  it('allows that realm for a registry named with --insecure-registry', async () => {
    const { tokens, reg } = await httpRealmRegistry();
    await open([reg.host])
      .fetcher(() => CREDS)
      .resolve(ctx(), parseReference(`${reg.host}/a/b:1`));
    assert.equal(tokens.requests.length, 1);
    assert.equal(tokens.requests[0].headers.authorization, BASIC);
  });

  /** An HTTPS registry (Basic auth) that redirects blob GETs to http: on its own host and port. */
  const downgradingRegistry = () =>
    serve(
      (req, res) => {
        if (req.headers.authorization !== BASIC) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
        res.writeHead(307, { location: `http://${req.headers.host}/plain${req.url}` }).end();
      },
      { https: true },
    );

  it("refuses an HTTPS → HTTP redirect on the registry's own host", async () => {
    const reg = await downgradingRegistry();
    await assert.rejects(
      open()
        .fetcher(() => CREDS)
        .fetchBlob(ctx(), parseReference(`${reg.host}/a/b:1`), BLOB),
      (e: Error) => {
        assert.equal(kindOf(e), 'FailedPrecondition', e.message);
        assert.match(e.message, /from HTTPS to plain HTTP/);
        return true;
      },
    );
    // The credentials went only over TLS: the 401, then the authorized request that got the redirect.
    const blobRequests = reg.requests.filter((r) => r.url !== '/v2/');
    assert.deepEqual(
      blobRequests.map((r) => r.headers.authorization),
      [undefined, BASIC],
    );
  });
});
