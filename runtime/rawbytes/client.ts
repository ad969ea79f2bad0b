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
