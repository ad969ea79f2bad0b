// Host naming rules: Docker Hub's API host, login spellings, loopback and
// insecure matching, and how the transport picks a scheme for a loopback host.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { apiHost, isListedInsecure, isLoopback, normalizeHost, splitHostPort } from '../../../runtime/distribution/hosts';
import { DEFAULT_BACKOFF } from '../../../runtime/distribution/retry';
import { Transport } from '../../../runtime/distribution/transport';
import { startFakeServer } from './fakeServer';

describe('distribution/hosts', () => {
  it('maps Docker Hub names to its API host, and nothing else', () => {
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('index.docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('ghcr.io'), 'ghcr.io');
    assert.equal(apiHost('127.0.0.1:5000'), '127.0.0.1:5000');
  });

  it('normalises what users type for login/logout', () => {
    const table: [string, string][] = [
      ['https://index.docker.io/v1/', 'docker.io'],
      ['index.docker.io', 'docker.io'],
      ['registry-1.docker.io', 'docker.io'],
      ['docker.io', 'docker.io'],
      ['https://ghcr.io', 'ghcr.io'],
      ['http://127.0.0.1:5000/v2/', '127.0.0.1:5000'],
      ['quay.io', 'quay.io'],
    ];
    for (const [input, want] of table) assert.equal(normalizeHost(input), want, input);
    assert.throws(() => normalizeHost('https://'));
  });

  it('splits host and port, IPv6 included', () => {
    assert.deepEqual(splitHostPort('a.b:5000'), { hostname: 'a.b', port: '5000' });
    assert.deepEqual(splitHostPort('a.b'), { hostname: 'a.b', port: undefined });
    assert.deepEqual(splitHostPort('[::1]:5000'), { hostname: '[::1]', port: '5000' });
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1:5000', '127.1.2.3', 'localhost', 'localhost:5000', '[::1]:5000', 'reg.localhost'])
      assert.ok(isLoopback(h), h);
    for (const h of ['10.0.0.1:5000', 'example.com', '[fe80::1]:5000', '128.0.0.1', 'localhost.example.com']) assert.ok(!isLoopback(h), h);
  });

  it('matches insecure registries by host:port or bare host', () => {
    assert.ok(isListedInsecure('reg:5000', ['reg:5000']));
    assert.ok(isListedInsecure('reg:5000', ['reg']));
    assert.ok(!isListedInsecure('reg:5001', ['reg:5000']));
  });

  it('Transport.endpoint: https for ordinary hosts without I/O; a plain-HTTP loopback registry is probed once', async () => {
    const t = new Transport({ certsDir: os.tmpdir(), insecureRegistries: [], backoff: DEFAULT_BACKOFF, userAgent: 'x' });
    const server = await startFakeServer((_q, res) => res.end());
    try {
      const ctx = { signal: new AbortController().signal };
      assert.equal(await t.endpoint(ctx, 'example.invalid:5000'), 'https://example.invalid:5000');
      assert.equal(await t.endpoint(ctx, server.host), `http://${server.host}`);
      assert.equal(await t.endpoint(ctx, server.host), `http://${server.host}`);
      // The TLS probe never reaches the HTTP handler; nothing else was sent.
      assert.equal(server.requests.length, 0);
    } finally {
      await t.close();
      await server.close();
    }
  });
});
