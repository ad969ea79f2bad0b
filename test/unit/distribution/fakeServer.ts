// Tiny local HTTP(S) servers for distribution unit tests: each request is
// recorded, and a handler decides the answer (including misbehaviour a real
// registry would not show on demand: lying lengths, resets, odd headers).
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number, body: string) => void;

export interface FakeServer {
  /** "127.0.0.1:PORT" (or the bind host given). */
  host: string;
  port: number;
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeServer(
  handler: Handler,
  opts: { bind?: string; hostName?: string; tls?: { cert: string | Buffer; key: string | Buffer } } = {},
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, requests.length, body);
    });
  };
  const server = opts.tls ? https.createServer({ ...opts.tls }, onRequest) : http.createServer(onRequest);
  const bind = opts.bind ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bind, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = `${opts.hostName ?? bind}:${port}`;
  return {
    host,
    port,
    url: `${opts.tls ? 'https' : 'http'}://${host}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
