// Traffic through a published port for bench/network.ts: the server side
// (a detached container per runtime, or the same busybox on the host as the
// floor) and the timed client side.
//
//   stream  the server sends BYTES of zeros per connection: busybox `nc -ll`
//           (a persistent server, forking per connection) runs `dd bs=1M` with
//           the connection as its stdout — busybox nc itself copies in 1 KiB
//           chunks, slower than any network path here. The client is a Node
//           socket on the host that counts what arrives: connect to EOF, and the
//           count must be BYTES.
//   http    busybox httpd serving a small file; the client makes `requests`
//           GETs one after the other, each on a new connection (agent: false):
//           the connection rate, not keep-alive throughput.
//
// Same busybox binary for every server (the image's is Debian's static
// busybox, as is the host's busybox-static) and the same client for every
// target, so only the path between them differs.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as net from 'node:net';
import { checkInterrupted, start } from './harness';

export const STREAM_PORT = 5000;
export const HTTP_PORT = 80;
export const HTTP_BODY = 'gantry network bench\n';

/** The container's command for the stream server (`bytes`: a multiple of 1 MiB). */
export function streamServerCmd(bytes: number, port = STREAM_PORT): string[] {
  if (bytes % 2 ** 20) throw new Error(`--bytes must be a multiple of 1 MiB (${2 ** 20})`);
  return ['nc', '-ll', '-p', String(port), '-e', 'dd', 'if=/dev/zero', 'bs=1048576', `count=${bytes / 2 ** 20}`];
}

/** The container's command for the HTTP server. */
export function httpServerCmd(port = HTTP_PORT): string[] {
  const body = HTTP_BODY.replace(/\n$/, '');
  return ['sh', '-c', `mkdir -p /www && echo '${body}' > /www/index.html && exec httpd -f -p ${port} -h /www`];
}

/** The floors: the same servers on the host's loopback. Stopped with the run (harness.ts). */
export async function startHostStreamServer(bytes: number, port: number): Promise<void> {
  // busybox nc cannot bind one address: it listens on all; the client connects to 127.0.0.1.
  start('busybox', streamServerCmd(bytes, port), { name: 'stream floor' });
  await waitStream('127.0.0.1', port);
}

export async function startHostHttpd(dir: string, port: number): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(path.join(dir, 'index.html'), HTTP_BODY);
  start('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', dir], { name: 'httpd floor' });
  await waitHttp(`http://127.0.0.1:${port}/`);
}

/** Reads one stream connection to its end: bytes received and ms (connect to EOF). */
export function receiveStream(host: string, port: number, timeoutMs = 120_000): Promise<{ bytes: number; ms: number }> {
  checkInterrupted();
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let bytes = 0;
    const sock = net.connect({ host, port });
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`${host}:${port}: no data for ${timeoutMs} ms`)));
    sock.on('data', (b: Buffer) => (bytes += b.length));
    sock.on('error', reject);
    sock.on('end', () => {
      const ms = performance.now() - t0;
      sock.destroy();
      resolve({ bytes, ms });
    });
  });
}

/** Until the stream server accepts a connection (refused until it listens); the connection is dropped at once. */
export async function waitStream(host: string, port: number, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    checkInterrupted();
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > until) throw new Error(`no stream server answered on ${host}:${port}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (s: string) => (body += s))
        .on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${url}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

export async function waitHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    checkInterrupted();
    if ((await get(url).catch(() => '')) === HTTP_BODY) return;
    if (performance.now() > until) throw new Error(`no HTTP server answered at ${url}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** `requests` GETs one after the other, each on a new connection, each checked; ms for all. */
export async function httpBatch(url: string, requests: number): Promise<number> {
  checkInterrupted();
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) {
    const body = await get(url);
    if (body !== HTTP_BODY) throw new Error(`GET ${url} returned ${JSON.stringify(body.slice(0, 80))}`);
  }
  return performance.now() - t0;
}
