/**
 * Forwarding a query the resolver does not answer itself: byte for byte to
 * the upstream servers in order, each given `timeoutMs`, over UDP for a UDP
 * query and over TCP for a TCP one (a truncated UDP answer goes back as it
 * is: the client retries over TCP, which we then forward over TCP). A fresh
 * socket per query, so each has its own random source port. undefined when
 * no server answered (the caller answers SERVFAIL).
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { frame, messageId, TcpFramer } from './codec';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_FORWARD_TIMEOUT_MS = 2000;

/** `1.2.3.4`, `2001:db8::1`, `fe80::1%eth0` (port 53). */
export function upstream(host: string, port = 53): Upstream {
  return { host, port };
}

const plain = (address: string) => address.replace(/^::ffff:/, '').replace(/%.*$/, '');

export async function forwardUdp(
  msg: Uint8Array,
  servers: readonly Upstream[],
  timeoutMs = DEFAULT_FORWARD_TIMEOUT_MS,
): Promise<Buffer | undefined> {
  for (const server of servers) {
    const answer = await udpOnce(msg, server, timeoutMs).catch(() => undefined);
    if (answer) return answer;
  }
  return undefined;
}

export async function forwardTcp(
  msg: Uint8Array,
  servers: readonly Upstream[],
  timeoutMs = DEFAULT_FORWARD_TIMEOUT_MS,
): Promise<Buffer | undefined> {
  for (const server of servers) {
    const answer = await tcpOnce(msg, server, timeoutMs).catch(() => undefined);
    if (answer) return answer;
  }
  return undefined;
}

function udpOnce(msg: Uint8Array, server: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    const id = messageId(msg);
    const done = (answer: Buffer | undefined, error?: Error) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', (e) => done(undefined, e));
    socket.on('message', (answer, from) => {
      // Only the server's answer to this query counts.
      if (plain(from.address) !== plain(server.host) || from.port !== server.port || messageId(answer) !== id) return;
      done(answer);
    });
    socket.send(msg, server.port, server.host, (e) => {
      if (e) done(undefined, e);
    });
  });
}

function tcpOnce(msg: Uint8Array, server: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    const framer = new TcpFramer();
    const done = (answer: Buffer | undefined, error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', (e) => done(undefined, e));
    socket.on('connect', () => socket.write(frame(msg)));
    socket.on('data', (chunk) => {
      const [answer] = framer.push(chunk);
      if (answer) done(answer);
    });
    socket.on('end', () => done(undefined));
  });
}
