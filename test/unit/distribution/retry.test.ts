// Backoff arithmetic, and the transport's retry loop against a local server
// that fails a given number of times.
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { isCancelled, isUnavailable } from '../../../runtime/errdefs/errdefs';
import {
  backoffDelay,
  BackoffOptions,
  DEFAULT_BACKOFF,
  isRetryableNetworkError,
  isRetryableStatus,
  parseRetryAfter,
} from '../../../runtime/distribution/retry';
import { Transport } from '../../../runtime/distribution/transport';
import { FakeServer, startFakeServer } from './fakeServer';
import { freePort } from '../../helpers/ports';
import { waitFor } from '../../helpers/waitFor';

const fast: BackoffOptions = { maxRetries: 5, baseMs: 10, maxMs: 40, maxRetryAfterMs: 5_000 };

function transport(backoff: BackoffOptions = fast, onDebug?: (msg: string, fields?: Record<string, unknown>) => void): Transport {
  const logger = onDebug && { error: () => undefined, warn: () => undefined, info: () => undefined, debug: onDebug };
  return new Transport({ certsDir: os.tmpdir(), insecureRegistries: [], backoff, userAgent: 'gantry-test/1', logger });
}

const ctx = () => ({ signal: new AbortController().signal });

describe('distribution/retry', () => {
  describe('backoffDelay', () => {
    it('doubles from the base, with jitter in the upper half, capped', () => {
      assert.equal(
        backoffDelay(0, DEFAULT_BACKOFF, () => 0),
        100,
      );
      assert.equal(
        backoffDelay(0, DEFAULT_BACKOFF, () => 1),
        200,
      );
      assert.equal(
        backoffDelay(1, DEFAULT_BACKOFF, () => 1),
        400,
      );
      assert.equal(
        backoffDelay(3, DEFAULT_BACKOFF, () => 0.5),
        1200,
      );
      assert.equal(
        backoffDelay(10, DEFAULT_BACKOFF, () => 0),
        2500,
      );
      assert.equal(
        backoffDelay(10, DEFAULT_BACKOFF, () => 1),
        5000,
      );
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(i % 8);
        assert.ok(d >= 100 && d <= 5000, String(d));
      }
    });
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const table: [string | string[] | undefined, number | undefined][] = [
      [undefined, undefined],
      ['', undefined],
      ['3', 3000],
      [['7', '9'], 7000],
      ['Wed, 01 Jan 2025 00:00:02 GMT', 2000],
      ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
      ['soon', undefined],
      ['-1', undefined],
    ];
    for (const [value, want] of table) {
      it(`${JSON.stringify(value)} → ${want}`, () => assert.equal(parseRetryAfter(value, now), want));
    }
  });

  it('classifies statuses and network errors', () => {
    for (const s of [429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(s), String(s));
    for (const s of [200, 400, 401, 403, 404, 416, 501, 505]) assert.ok(!isRetryableStatus(s), String(s));
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']) {
      assert.ok(isRetryableNetworkError(Object.assign(new Error('x'), { code })), code);
    }
    assert.ok(isRetryableNetworkError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) })));
    for (const code of ['ENOTFOUND', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_SSL_WRONG_VERSION_NUMBER', undefined]) {
      assert.ok(!isRetryableNetworkError(Object.assign(new Error('x'), { code })), String(code));
    }
  });

  describe('Transport.send against a failing server', () => {
    let server: FakeServer | undefined;
    let t: Transport | undefined;
    afterEach(async () => {
      await t?.close();
      await server?.close();
      server = t = undefined;
    });

    const failing = async (n: number, fail: Parameters<typeof startFakeServer>[0]) => {
      server = await startFakeServer((req, res, i, body) => (i <= n ? fail(req, res, i, body) : res.end('ok')));
      return server;
    };

    it('retries 5xx until success', async () => {
      const s = await failing(3, (_q, res) => {
        res.writeHead(503);
        res.end('busy');
      });
      t = transport();
      const res = await t.send(ctx(), s.host, { method: 'GET', url: `${s.url}/v2/` });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'ok');
      assert.equal(s.requests.length, 4);
      assert.equal(s.requests[0].headers['user-agent'], 'gantry-test/1');
    });

    it('retries connection resets before the response', async () => {
      const s = await failing(2, (req) => req.socket.destroy());
      t = transport();
      const res = await t.send(ctx(), s.host, { method: 'HEAD', url: `${s.url}/x` });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      assert.equal(s.requests.length, 3);
    });

    it('honours Retry-After on 429', async () => {
      const s = await failing(1, (_q, res) => {
        res.writeHead(429, { 'retry-after': '1' });
        res.end();
      });
      // The delay the transport chose is what is checked, not the clock: it
      // must be the server's Retry-After (1 s), not the 10–40 ms backoff.
      const retries: Record<string, unknown>[] = [];
      t = transport(fast, (msg, fields) => {
        if (msg === 'registry request retry' && fields) retries.push(fields);
      });
      const res = await t.send(ctx(), s.host, { method: 'GET', url: `${s.url}/x` });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
      assert.deepEqual(
        retries.map((r) => [r.delayMs, r.reason]),
        [[1000, 429]],
      );
    });

    it('returns a 429 at once when Retry-After is beyond the cap', async () => {
      const s = await failing(5, (_q, res) => {
        res.writeHead(429, { 'retry-after': '3600' });
        res.end();
      });
      t = transport();
      const res = await t.send(ctx(), s.host, { method: 'GET', url: `${s.url}/x` });
      await res.body.dump();
      assert.equal(res.statusCode, 429);
      assert.equal(s.requests.length, 1);
    });

    it('gives up after maxRetries and returns the last answer', async () => {
      const s = await failing(100, (_q, res) => {
        res.writeHead(502);
        res.end();
      });
      t = transport({ ...fast, maxRetries: 3 });
      const res = await t.send(ctx(), s.host, { method: 'GET', url: `${s.url}/x` });
      await res.body.dump();
      assert.equal(res.statusCode, 502);
      assert.equal(s.requests.length, 4);
    });

    it('does not retry 4xx, nor POST', async () => {
      const s = await failing(100, (req, res) => {
        res.writeHead(req.method === 'POST' ? 503 : 404);
        res.end();
      });
      t = transport();
      const get = await t.send(ctx(), s.host, { method: 'GET', url: `${s.url}/x` });
      await get.body.dump();
      assert.equal(get.statusCode, 404);
      const post = await t.send(ctx(), s.host, { method: 'POST', url: `${s.url}/x`, body: 'a=b' });
      await post.body.dump();
      assert.equal(post.statusCode, 503);
      assert.equal(s.requests.length, 2);
    });

    it('is Unavailable when nothing listens, after retrying', async () => {
      const port = await freePort();
      t = transport({ ...fast, maxRetries: 2 });
      await assert.rejects(t.send(ctx(), `127.0.0.1:${port}`, { method: 'GET', url: `http://127.0.0.1:${port}/v2/` }), (e: Error) => {
        assert.ok(isUnavailable(e), e.message);
        assert.match(e.message, /cannot reach registry 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
        return true;
      });
    });

    it('stops at once when ctx is aborted during a backoff', async () => {
      const s = await failing(100, (_q, res) => {
        res.writeHead(503);
        res.end();
      });
      const debug: string[] = [];
      t = transport({ maxRetries: 5, baseMs: 10_000, maxMs: 10_000, maxRetryAfterMs: 0 }, (msg) => debug.push(msg));
      const ac = new AbortController();
      const sent = t.send({ signal: ac.signal }, s.host, { method: 'GET', url: `${s.url}/x` });
      // The transport logs each retry as its backoff begins.
      await waitFor(() => debug.includes('registry request retry'), {
        what: "the first retry's backoff",
        timeoutMs: 5000,
        describe: () => debug,
      });
      ac.abort();
      // A backoff of 10 s that ignored the abort would outlast the test's timeout.
      await assert.rejects(sent, (e: Error) => isCancelled(e));
      assert.equal(s.requests.length, 1);
    });

    it('is Cancelled when ctx is aborted while waiting for headers', async () => {
      server = await startFakeServer(() => undefined);
      t = transport();
      const ac = new AbortController();
      const sent = t.send({ signal: ac.signal }, server.host, { method: 'GET', url: `${server.url}/x` });
      // The server has the request (and never answers): the transport waits for headers.
      await waitFor(() => server!.requests.length > 0, { what: 'the request at the server', timeoutMs: 5000 });
      ac.abort();
      await assert.rejects(sent, (e: Error) => isCancelled(e));
    });
  });
});
