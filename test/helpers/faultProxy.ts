// A fault injector in front of a real registry: a TCP proxy on
// 127.0.0.1:<free port> that forwards bytes both ways unchanged, records every
// HTTP request it sees, and on request breaks or stalls blob downloads.
//
// It is not a mock: every answer comes from the registry behind it. It only
// understands enough HTTP/1.1 to find where one message ends and the next
// begins on a keep-alive connection (request/response heads, Content-Length
// bodies). Anything it cannot follow (a TLS ClientHello from a client probing
// for HTTPS, a chunked body) is passed through untouched and unrecorded for
// the rest of that connection.
//
// Faults apply to responses to `GET …/blobs/<digest>` and to manifests
// fetched by digest, `GET …/manifests/<digest>` (status 200 or 206), and
// count response *body* bytes; the head is always forwarded whole:
//   cutBlobAfter(n)    forward n body bytes, then reset both sockets (RST)
//   pauseBlobAfter(n)  forward n body bytes, hold the rest until release()
//                      (which lets it continue, or with {reset: true} resets
//                      both sockets: the client never gets the rest)
// A fault stays armed until a response is long enough to trigger it.
// cutUploadAfter(n) does the same to the next upload request (PATCH, or PUT
// with a body) on its way to the registry.
//
// One thing it serves itself: replaceManifest() answers manifest requests
// for one tag with given bytes, for documents distribution 2.8 refuses to
// store or serve (over 4 MiB, not JSON) but other registries might send.
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { waitFor } from './waitFor';

export interface ProxiedRequest {
  /** Which client connection (1, 2, …) carried it. */
  conn: number;
  method: string;
  /** Request target as sent, e.g. "/v2/test/big/blobs/sha256:…". */
  path: string;
  /** The Range header, when the client sent one. */
  range?: string;
  /** The Content-Range header of an upload chunk (PATCH), when sent. */
  contentRange?: string;
  /** The Authorization header, when sent (which credentials reached this host). */
  authorization?: string;
}

export interface FaultOptions {
  /** Only responses for this digest (default: any blob or manifest fetched by digest). */
  digest?: string;
  /** How many responses to break or stall (default 1). */
  times?: number;
}

export interface FaultProxy {
  /** "127.0.0.1:PORT", to use in image references. */
  host: string;
  port: number;
  /** Every request seen so far, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** The GET requests for blobs (optionally one digest) seen so far. */
  blobGets(digest?: string): ProxiedRequest[];
  /** Resolves with the first request (already seen or later) matching `match`. */
  waitForRequest(match: (r: ProxiedRequest) => boolean, timeoutMs?: number): Promise<ProxiedRequest>;
  /** Resolves once the client has closed connection `conn` (e.g. gave up a stalled download). */
  clientClosed(conn: number, timeoutMs?: number): Promise<void>;
  /**
   * Breaks the next `times` upload requests (PATCH or PUT with a body) after
   * forwarding `bytes` of their body to the registry (RST to both sides).
   */
  cutUploadAfter(bytes: number, opts?: { times?: number }): void;
  /** Breaks the next `times` matching responses after `bytes` body bytes (RST to both sides). */
  cutBlobAfter(bytes: number, opts?: FaultOptions): void;
  /**
   * Stalls the next `times` matching responses after `bytes` body bytes until
   * release(). Resolves (with the stalled requests) once all of them stall.
   */
  pauseBlobAfter(bytes: number, opts?: FaultOptions): Promise<ProxiedRequest[]>;
  /**
   * From now on, HEAD/GET of `/v2/<repo>/manifests/<tag>` and of the digest of
   * `body` answer 200 with `body` (Content-Type `mediaType`, Content-Length and
   * Docker-Content-Digest to match) instead of what the registry said.
   * Returns that digest.
   */
  replaceManifest(repo: string, tag: string, body: Buffer, mediaType: string): string;
  /**
   * Lets every stalled response continue (what the upstream sent meanwhile,
   * then the rest). With `reset`, resets those connections instead: what the
   * upstream had sent is lost, as when a registry host dies with data in flight
   * (a killed registry *process* still gets its buffered bytes delivered by the
   * kernel, which can be the whole rest of a blob).
   */
  release(opts?: { reset?: boolean }): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

interface Replacement {
  matches(req: ProxiedRequest): boolean;
  /** The whole response: head, and body unless for HEAD. */
  response(forHead: boolean): Buffer;
}

interface Fault {
  kind: 'cut' | 'pause';
  bytes: number;
  digest?: string;
  times: number;
  onPaused?: (r: ProxiedRequest) => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** Heads larger than this mean we are not looking at HTTP (or not any more). */
const MAX_HEAD = 64 * 1024;
const BLOB_GET = /^\/v2\/.+\/blobs\/([a-z0-9]+:[a-f0-9]+)(\?.*)?$/;
const CONTENT_GET = /^\/v2\/.+\/(?:blobs|manifests)\/([a-z0-9]+:[a-f0-9]+)(\?.*)?$/;

/** One HTTP message head: start line + lower-cased headers. */
interface Head {
  line: string;
  headers: Map<string, string>;
}

function parseHead(raw: string): Head {
  const [line, ...rest] = raw.split('\r\n');
  const headers = new Map<string, string>();
  for (const h of rest) {
    const i = h.indexOf(':');
    if (i > 0) headers.set(h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim());
  }
  return { line, headers };
}

/** Body length from the head: a number, or undefined when we cannot follow it (chunked, close-delimited). */
function contentLength(head: Head): number | undefined {
  if (head.headers.has('transfer-encoding')) return undefined;
  const cl = head.headers.get('content-length');
  return cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
}

export async function startFaultProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<FaultProxy> {
  const requests: ProxiedRequest[] = [];
  const waiters = new Set<() => void>();
  const faults: Fault[] = [];
  const releasers = new Set<(reset: boolean) => void>();
  const replacements: Replacement[] = [];
  const sockets = new Set<net.Socket>();
  let nextConn = 1;

  const closed = new Set<number>(); // connections the client has closed
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const record = (r: ProxiedRequest) => {
    requests.push(r);
    notify();
  };
  /** Resolves with `probe()`'s first non-undefined value, re-checked on every event. */
  const until = async <T>(probe: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> => {
    const found = await waitFor(
      () => {
        const v = probe();
        return v === undefined ? undefined : { v };
      },
      {
        what: 'the fault proxy to see it',
        timeoutMs,
        describe: what,
        wake: (recheck) => {
          waiters.add(recheck);
          return () => waiters.delete(recheck);
        },
      },
    );
    return found.v;
  };

  /**
   * The armed fault for a blob body that has forwarded `sent` bytes and is about
   * to forward `len` more: one whose threshold falls inside them, with at least
   * one byte left over to withhold.
   */
  const uploadFaults: { bytes: number; times: number }[] = [];
  const uploadFaultFor = (req: ProxiedRequest, sent: number, len: number) =>
    req.method === 'PATCH' || req.method === 'PUT'
      ? uploadFaults.find((f) => f.times > 0 && sent <= f.bytes && f.bytes < sent + len)
      : undefined;

  const faultFor = (digest: string, sent: number, len: number): Fault | undefined =>
    faults.find((f) => f.times > 0 && (!f.digest || f.digest === digest) && sent <= f.bytes && f.bytes < sent + len);

  const server = net.createServer((client) => {
    const conn = nextConn++;
    const upstream = net.connect(upstreamPort, upstreamHost);
    sockets.add(client);
    sockets.add(upstream);
    const pending: ProxiedRequest[] = []; // requests whose responses have not started yet

    // ── client → upstream: forward as is, parse to record requests ──
    let reqBuf = Buffer.alloc(0);
    let reqBodyLeft = 0;
    let reqOpaque = false;
    let reqBody: { req: ProxiedRequest; sent: number } | undefined;
    const forward = (b: Buffer) => {
      if (b.length > 0 && !upstream.destroyed) upstream.write(b);
    };
    client.on('data', (chunk: Buffer) => {
      if (reqOpaque) return forward(chunk);
      reqBuf = Buffer.concat([reqBuf, chunk]);
      for (;;) {
        if (reqBodyLeft > 0) {
          const n = Math.min(reqBodyLeft, reqBuf.length);
          const piece = reqBuf.subarray(0, n);
          const fault = reqBody ? uploadFaultFor(reqBody.req, reqBody.sent, n) : undefined;
          if (fault) {
            // Part of the upload reaches the registry, then both connections are reset.
            fault.times--;
            forward(piece.subarray(0, fault.bytes - reqBody!.sent));
            reqOpaque = true;
            upstream.write(Buffer.alloc(0), () => {
              client.resetAndDestroy();
              upstream.resetAndDestroy();
            });
            return;
          }
          forward(piece);
          if (reqBody) reqBody.sent += n;
          reqBodyLeft -= n;
          reqBuf = reqBuf.subarray(n);
          if (reqBodyLeft > 0) return;
        }
        if (reqBuf.length > 0 && !/^[A-Z]/.test(String.fromCharCode(reqBuf[0]))) {
          reqOpaque = true; // not HTTP (e.g. a TLS handshake): pass through
          forward(reqBuf);
          return;
        }
        const end = reqBuf.indexOf(HEAD_END);
        if (end < 0) {
          if (reqBuf.length > MAX_HEAD) {
            reqOpaque = true;
            forward(reqBuf);
          }
          return;
        }
        forward(reqBuf.subarray(0, end + HEAD_END.length));
        const head = parseHead(reqBuf.subarray(0, end).toString('latin1'));
        reqBuf = reqBuf.subarray(end + HEAD_END.length);
        const [method = '', target = ''] = head.line.split(' ');
        const r: ProxiedRequest = { conn, method, path: target };
        const range = head.headers.get('range');
        if (range !== undefined) r.range = range;
        const contentRange = head.headers.get('content-range');
        if (contentRange !== undefined) r.contentRange = contentRange;
        const authorization = head.headers.get('authorization');
        if (authorization !== undefined) r.authorization = authorization;
        pending.push(r);
        record(r);
        if (head.headers.has('transfer-encoding')) {
          reqOpaque = true; // a chunked upload: not followed
          forward(reqBuf);
          return;
        }
        reqBodyLeft = contentLength(head) ?? 0;
        reqBody = { req: r, sent: 0 };
      }
    });

    // ── upstream → client: follow responses, apply faults to blob bodies ──
    let resBuf = Buffer.alloc(0); // unparsed head bytes
    let current: { digest?: string; req?: ProxiedRequest; left: number; sent: number; drop: boolean } | undefined;
    let resOpaque = false;
    let held: Buffer[] | undefined; // set while paused
    let upstreamEnded = false;

    const send = (b: Buffer) => {
      if (b.length > 0 && !client.destroyed) client.write(b);
    };
    const reset = () => {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };

    const onResponseData = (chunk: Buffer): void => {
      while (chunk.length > 0) {
        if (held) {
          held.push(chunk);
          return;
        }
        if (resOpaque) return send(chunk);
        if (!current) {
          resBuf = Buffer.concat([resBuf, chunk]);
          chunk = Buffer.alloc(0);
          const end = resBuf.indexOf(HEAD_END);
          if (end < 0) {
            if (resBuf.length > MAX_HEAD) {
              resOpaque = true;
              send(resBuf);
            }
            return;
          }
          const headBytes = resBuf.subarray(0, end + HEAD_END.length);
          chunk = resBuf.subarray(end + HEAD_END.length);
          resBuf = Buffer.alloc(0);
          const head = parseHead(headBytes.toString('latin1'));
          const status = Number(head.line.split(' ')[1]);
          if (status >= 100 && status < 200) {
            send(headBytes); // interim; the real response follows
            continue;
          }
          const req = pending.shift();
          const noBody = req?.method === 'HEAD' || status === 204 || status === 304;
          const len = noBody ? 0 : contentLength(head);
          const replacement = req && replacements.find((r) => r.matches(req));
          if (replacement) {
            send(replacement.response(req.method === 'HEAD'));
          } else {
            send(headBytes);
          }
          if (len === undefined) {
            if (replacement) return reset(); // cannot tell where the swallowed body ends
            resOpaque = true;
            continue;
          }
          const m = req?.method === 'GET' && (status === 200 || status === 206) ? CONTENT_GET.exec(req.path) : null;
          current = len > 0 ? { digest: m?.[1], req, left: len, sent: 0, drop: !!replacement } : undefined;
          continue;
        }
        // In a body.
        const piece = chunk.subarray(0, current.left);
        chunk = chunk.subarray(piece.length);
        if (current.drop) {
          // The body of a response we replaced: swallowed.
          current.left -= piece.length;
          if (current.left === 0) current = undefined;
          continue;
        }
        const fault = current.digest ? faultFor(current.digest, current.sent, piece.length) : undefined;
        if (fault) {
          fault.times--;
          const upTo = fault.bytes - current.sent;
          send(piece.subarray(0, upTo));
          current.sent += upTo;
          current.left -= upTo;
          if (fault.kind === 'cut') {
            // Let the bytes reach the client's socket before the reset.
            if (client.destroyed) return reset();
            client.write(Buffer.alloc(0), () => reset());
            upstream.pause();
            return;
          }
          held = [piece.subarray(upTo), chunk];
          upstream.pause();
          const req = current.req!;
          releasers.add((resetting) => {
            if (resetting) return reset();
            const rest = Buffer.concat(held!);
            held = undefined;
            onResponseData(rest);
            if (upstreamEnded) client.end();
            else upstream.resume();
          });
          fault.onPaused?.(req);
          return;
        }
        send(piece);
        current.sent += piece.length;
        current.left -= piece.length;
        if (current.left === 0) current = undefined;
      }
    };

    upstream.on('data', onResponseData);
    upstream.on('end', () => {
      upstreamEnded = true;
      if (!held) client.end();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!held && !client.destroyed) client.destroy();
    });
    client.on('end', () => upstream.end());
    client.on('close', () => {
      sockets.delete(client);
      closed.add(conn);
      notify();
      upstream.destroy();
    });
    // Errors end a connection; the 'close' handlers above tidy up.
    client.on('error', () => undefined);
    upstream.on('error', () => {
      upstreamEnded = true;
      if (!held) client.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    host: `127.0.0.1:${port}`,
    port,
    requests,
    blobGets: (digest) =>
      requests.filter((r) => {
        const m = r.method === 'GET' ? BLOB_GET.exec(r.path) : null;
        return m !== null && (!digest || m[1] === digest);
      }),
    waitForRequest: (match, timeoutMs = 60_000) =>
      until(
        () => requests.find(match),
        timeoutMs,
        () => `no matching request; saw:\n${requests.map(fmt).join('\n')}`,
      ),
    clientClosed: (conn, timeoutMs = 30_000) =>
      until(
        () => (closed.has(conn) ? true : undefined),
        timeoutMs,
        () => `the client kept connection #${conn} open`,
      ).then(() => undefined),
    cutUploadAfter: (bytes, opts = {}) => {
      uploadFaults.push({ bytes, times: opts.times ?? 1 });
    },
    cutBlobAfter: (bytes, opts = {}) => {
      faults.push({ kind: 'cut', bytes, digest: opts.digest, times: opts.times ?? 1 });
    },
    pauseBlobAfter: (bytes, opts = {}) =>
      new Promise((resolve) => {
        const stalled: ProxiedRequest[] = [];
        const times = opts.times ?? 1;
        const onPaused = (r: ProxiedRequest) => stalled.push(r) === times && resolve(stalled);
        faults.push({ kind: 'pause', bytes, digest: opts.digest, times, onPaused });
      }),
    replaceManifest: (repo, tag, body, mediaType) => {
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const paths = new Set([`/v2/${repo}/manifests/${tag}`, `/v2/${repo}/manifests/${digest}`]);
      const head = Buffer.from(
        'HTTP/1.1 200 OK\r\n' + `Content-Type: ${mediaType}\r\nContent-Length: ${body.length}\r\nDocker-Content-Digest: ${digest}\r\n\r\n`,
        'latin1',
      );
      replacements.push({
        matches: (r) => (r.method === 'GET' || r.method === 'HEAD') && paths.has(r.path),
        response: (forHead) => (forHead ? head : Buffer.concat([head, body])),
      });
      return digest;
    },
    release: (opts = {}) => {
      const all = [...releasers];
      releasers.clear();
      for (const r of all) r(opts.reset === true);
    },
    close: async () => {
      releasers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function fmt(r: ProxiedRequest): string {
  return `  #${r.conn} ${r.method} ${r.path}${r.range ? ` (Range: ${r.range})` : ''}`;
}
