// A door in front of the test registry that holds a push's blob uploads, so
// the Push notification stays up long enough to be seen: a plain-HTTP proxy
// on its own loopback port that passes every request through with its own
// Host header (so the registry's upload Locations point back at the proxy),
// except the PUTs that finish a blob upload (`…/blobs/uploads/…?digest=`),
// which wait until release(). Stopped (and released) by the cleanup.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Cleanup } from '../helpers/tmp';

export interface PushGate {
  /** "127.0.0.1:PORT": push to references on this host. */
  host: string;
  /** Resolves once an upload is being held. */
  held: Promise<void>;
  /** Lets held and later uploads through (idempotent). */
  release(): void;
}

export async function startPushGate(upstream: string, cleanup: Cleanup): Promise<PushGate> {
  const [upstreamHost, upstreamPort] = upstream.split(':');
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markHeld!: () => void;
  const held = new Promise<void>((resolve) => (markHeld = resolve));

  const server = http.createServer((req, res) => {
    const gated = req.method === 'PUT' && /\/blobs\/uploads\/.*[?&]digest=/.test(req.url ?? '');
    const forward = () => {
      const upstreamReq = http.request(
        { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: req.headers },
        (upstreamRes) => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      upstreamReq.on('error', () => res.destroy());
      req.pipe(upstreamReq);
    };
    if (!gated) return forward();
    req.pause();
    markHeld();
    void released.then(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  cleanup.defer(async () => {
    release();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: `127.0.0.1:${port}`, held, release };
}
