/**
 * The client's end of gantryd's raw socket (server.ts, docs/files.md,
 * "Large reads"): connect, present a ticket's token, read the bytes to EOF.
 */
import * as net from 'node:net';
import { rawSocketPath, TOKEN_BYTES } from './protocol';

/**
 * The raw socket beside a gRPC target, when the target is a unix socket
 * (`unix:/path`). Over SSH the target is a local proxy with no raw socket
 * beside it: connecting fails and callers fall back to gRPC.
 */
export function rawSocketOf(address: string): string | undefined {
  if (!address.startsWith('unix:') || address.startsWith('unix-abstract:')) return undefined;
  const p = address.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
  return p.startsWith('/') ? rawSocketPath(p) : undefined;
}

/** Connects to `socket` and presents `token`; resolves once connected (the bytes follow on the socket). */
export function openRaw(socket: string, token: Uint8Array): Promise<net.Socket> {
  if (token.length !== TOKEN_BYTES) return Promise.reject(new Error(`a raw ticket's token has ${token.length} bytes`));
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    conn.once('error', reject);
    conn.once('connect', () => {
      conn.off('error', reject);
      conn.write(token);
      resolve(conn);
    });
  });
}

/** What one socket read may take: the kernel hands over what its buffer holds, up to this. */
const READ_BUFFER = 1024 * 1024;
/** Reading pauses while this much is waiting for the consumer (memory stays bounded). */
const QUEUE_HIGH = 8 * 1024 * 1024;

/** The bytes of a redeemed ticket, in order; destroy() cuts the connection. */
export interface RawReader extends AsyncIterable<Buffer> {
  destroy(): void;
}

/**
 * openRaw for a reader that wants the bytes as fast as they come: the
 * socket reads into one large buffer (`onread`) and each read is copied out
 * once, instead of a stream's 64 KiB reads each passed through its
 * machinery — ~25 % less time for a 50 MiB read on the loaded 2-core
 * machine (docs/performance.md, the files benchmark). Rejects when the
 * socket cannot be reached.
 */
export function readRaw(socket: string, token: Uint8Array): Promise<RawReader> {
  if (token.length !== TOKEN_BYTES) return Promise.reject(new Error(`a raw ticket's token has ${token.length} bytes`));
  return new Promise((resolve, reject) => {
    const queue: Buffer[] = [];
    let queued = 0;
    let paused = false;
    let ended = false;
    let failed: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const conn = net.connect({
      path: socket,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback: (n: number, buf: Uint8Array) => {
          // Copied: the buffer is reused by the next read.
          queue.push(Buffer.from(buf.subarray(0, n)));
          queued += n;
          notify();
          // Reading stops until the consumer has caught up. (Not by
          // returning false: that stops the handle behind the stream's
          // back, and resume() would not start it again.)
          if (queued >= QUEUE_HIGH && !paused) {
            paused = true;
            conn.pause();
          }
          return true;
        },
      },
    });
    conn.once('error', reject);
    conn.once('connect', () => {
      conn.off('error', reject);
      conn.on('error', (e) => {
        failed = e;
        notify();
      });
      conn.write(token);
      resolve({
        destroy: () => conn.destroy(),
        async *[Symbol.asyncIterator]() {
          for (;;) {
            const chunk = queue.shift();
            if (chunk) {
              queued -= chunk.length;
              if (paused && queued < QUEUE_HIGH) {
                paused = false;
                conn.resume();
              }
              yield chunk;
              continue;
            }
            if (failed) throw failed;
            if (ended) return;
            await new Promise<void>((r) => (wake = r));
          }
        },
      });
    });
    const end = () => {
      ended = true;
      notify();
    };
    conn.on('end', end);
    conn.on('close', end);
  });
}
