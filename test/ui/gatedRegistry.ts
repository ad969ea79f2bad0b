// A slow door in front of the test registry, so a pull started from the UI
// stays in progress long enough to be seen: a plain-HTTP proxy on its own
// loopback port that passes every request through, except GETs of one blob,
// whose first half it sends in a few pieces, each once the last is flushed
// (the daemon reports progress as bytes arrive, its last state always), and
// whose rest it holds until release(). A local registry
// otherwise serves a busybox layer faster than the notification can be seen.
//
// Lifecycle: startGatedRegistry registers stop() with the cleanup; stop()
// releases the gate first, so a held pull finishes rather than hangs.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cleanup } from '../helpers/tmp';

export interface GatedRegistry {
  /** "127.0.0.1:PORT": use it in references as the registry's host. */
  host: string;
  /** Resolves once the gated blob's first half has been sent. */
  held: Promise<void>;
  /** Lets the gated blob's rest through (idempotent). */
  release(): void;
  stop(): Promise<void>;
}

const PIECES = 4;

/** Proxies to `upstream` ("127.0.0.1:PORT", plain HTTP), gating GETs of blob `digest`. */
export async function startGatedRegistry(upstream: string, digest: string, cleanup: Cleanup): Promise<GatedRegistry> {
  const [upstreamHost, upstreamPort] = upstream.split(':');
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markHeld!: () => void;
  const held = new Promise<void>((resolve) => (markHeld = resolve));

  const server = http.createServer((req, res) => {
    const gated = req.method === 'GET' && req.url?.endsWith(`/blobs/${digest}`);
    const upstreamReq = http.request(
      { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: { ...req.headers, host: upstream } },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        if (!gated || upstreamRes.statusCode !== 200) {
          upstreamRes.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => chunks.push(c));
        upstreamRes.on('end', () => void sendSlowly(Buffer.concat(chunks), res, released, markHeld));
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstreamReq.on('error', () => res.destroy());
    req.pipe(upstreamReq);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    })());
  cleanup.defer(stop);
  return { host: `127.0.0.1:${port}`, held, release, stop };
}

async function sendSlowly(body: Buffer, res: http.ServerResponse, released: Promise<void>, markHeld: () => void): Promise<void> {
  const half = Math.floor(body.length / 2);
  const piece = Math.ceil(half / PIECES);
  for (let sent = 0; sent < half; sent += piece) {
    if (res.destroyed) return;
    await new Promise<void>((resolve) => res.write(body.subarray(sent, Math.min(sent + piece, half)), () => resolve()));
  }
  markHeld();
  await released;
  if (!res.destroyed) res.end(body.subarray(half));
}
