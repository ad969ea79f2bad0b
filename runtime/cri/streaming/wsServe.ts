/**
 * Exec, attach and port-forward over WebSocket, as the kubelet serves them
 * (protocol.ts has the framing): every message starts with its channel.
 * - Exec/attach (`v5.channel.k8s.io`, `v4.channel.k8s.io`,
 *   `channel.k8s.io`): 0 stdin, 1 stdout, 2 stderr, 3 error (v4/v5: the
 *   Status at the end; older: text on failure), 4 resize; v5's channel 255
 *   with byte 0 closes stdin.
 * - Port-forward: per port of the URL's query (`ports=`/`port=`, else the
 *   request's), channel 2i its data and 2i+1 its errors; each channel's
 *   first server message is its port (two bytes, little-endian).
 * - The base64 twins (`base64.channel.k8s.io`, `v4.base64.channel.k8s.io`):
 *   text messages, the channel an ASCII digit, the payload base64.
 * - The SPDY tunnel (`SPDY/3.1+portforward.k8s.io`): the WebSocket's binary
 *   messages are a SPDY/3.1 byte stream, served as SPDY port-forward
 *   (spdyServe.ts) over a Duplex of the WebSocket.
 *
 * Backpressure: output waits while over HIGH_WATER is unsent to the client;
 * a forwarded pod socket that is full pauses the WebSocket's reading.
 */
import type * as net from 'node:net';
import { createWebSocketStream, type WebSocket } from 'ws';
import type { Ctx } from '../../context';
import type { Logger } from '../../util/log';
import {
  Channel,
  ResizeDecoder,
  base64ChannelMessage,
  channelMessage,
  isBase64Protocol,
  legacyError,
  parseBase64ChannelMessage,
  parseChannelMessage,
  portBytes,
  statusJson,
  versionOf,
} from './protocol';
import { runCommand } from './remoteCommand';
import { serveSpdyPortForward } from './spdyServe';
import type { CommandRequest, PortForwardStreamRequest, StreamingRuntime } from './streaming';

const NORMAL_CLOSURE = 1000;

/** Above this much unsent, output waits for the client. */
const HIGH_WATER = 1024 * 1024;

/** Resolves once what is queued on the WebSocket is below the mark (an empty message's callback comes after all before it). */
function drained(ws: WebSocket): Promise<void> {
  if (ws.readyState !== ws.OPEN || ws.bufferedAmount < HIGH_WATER) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      ws.off('close', done);
      resolve();
    };
    ws.ping(undefined, undefined, done);
    ws.once('close', done);
  });
}

/** Channel messages in the negotiated encoding: binary, or base64 text. */
interface ChannelCodec {
  send(channel: number, data: Buffer | string): void;
  parse(raw: Buffer, isBinary: boolean): { channel: number; data: Buffer } | undefined;
}

function codecFor(ws: WebSocket): ChannelCodec {
  const open = () => ws.readyState === ws.OPEN;
  if (isBase64Protocol(ws.protocol)) {
    return {
      send: (channel, data) => open() && ws.send(base64ChannelMessage(channel, data)),
      parse: (raw) => parseBase64ChannelMessage(raw),
    };
  }
  return {
    send: (channel, data) => open() && ws.send(channelMessage(channel, data)),
    parse: (raw) => parseChannelMessage(raw),
  };
}

export function serveWsCommand(ctx: Ctx, ws: WebSocket, request: CommandRequest, runtime: StreamingRuntime, log: Logger): void {
  const version = versionOf(ws.protocol);
  const codec = codecFor(ws);
  const resizes = new ResizeDecoder();
  const control = runCommand(
    ctx,
    runtime,
    request,
    {
      stdout: (data) => codec.send(Channel.stdout, data),
      stderr: (data) => codec.send(Channel.stderr, data),
      drained: () => drained(ws),
      finish: (outcome) => {
        const message = version >= 4 ? statusJson(outcome) : legacyError(outcome);
        if (message) codec.send(Channel.error, message);
        ws.close(NORMAL_CLOSURE);
      },
    },
    log,
  );
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const message = codec.parse(raw, isBinary);
    if (!message) return;
    switch (message.channel) {
      case Channel.stdin:
        control.stdin(message.data);
        return;
      case Channel.resize:
        for (const size of resizes.push(message.data)) control.resize(size);
        return;
      case Channel.close:
        if (version >= 5 && message.data[0] === Channel.stdin) control.stdinEnd();
        return;
    }
  });
  ws.once('close', () => control.gone());
  ws.on('error', () => control.gone());
}

/** The ports a port-forward WebSocket asks for: its query's, else the request's. */
export function portsOf(query: URLSearchParams, requested: readonly number[]): number[] | string {
  const named = [...query.getAll('ports'), ...query.getAll('port')].flatMap((v) => v.split(',')).filter((v) => v.trim());
  if (!named.length) return [...requested];
  const ports: number[] = [];
  for (const text of named) {
    const port = Number(text.trim());
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `invalid port ${JSON.stringify(text)}`;
    ports.push(port);
  }
  return ports;
}

/** Port-forward through the SPDY tunnel: SPDY/3.1 over the WebSocket's binary messages. */
export function serveWsSpdyTunnel(
  ctx: Ctx,
  ws: WebSocket,
  request: PortForwardStreamRequest,
  runtime: StreamingRuntime,
  log: Logger,
): void {
  const duplex = createWebSocketStream(ws);
  duplex.on('error', () => undefined);
  serveSpdyPortForward(ctx, duplex, request, runtime, log);
}

export function serveWsPortForward(
  ctx: Ctx,
  ws: WebSocket,
  podSandboxId: string,
  ports: readonly number[],
  runtime: StreamingRuntime,
  log: Logger,
): void {
  const codec = codecFor(ws);
  const sockets = new Map<number, net.Socket>();
  const early = new Map<number, Buffer[]>();
  // Pod sockets that are full: the WebSocket is not read until they drain.
  const full = new Set<net.Socket>();
  const toPod = (tcp: net.Socket, data: Buffer) => {
    if (tcp.write(data) || full.has(tcp)) return;
    full.add(tcp);
    ws.pause();
    const drain = () => {
      tcp.off('drain', drain);
      tcp.off('close', drain);
      full.delete(tcp);
      if (!full.size) ws.resume();
    };
    tcp.on('drain', drain);
    tcp.on('close', drain);
  };
  let open = ports.length;
  const done = () => {
    if (--open === 0) ws.close(NORMAL_CLOSURE);
  };
  ports.forEach((port, i) => {
    const data = 2 * i;
    const error = data + 1;
    codec.send(data, portBytes(port));
    codec.send(error, portBytes(port));
    early.set(data, []);
    runtime.dial(ctx, podSandboxId, port).then(
      (conn) => {
        if (ws.readyState !== ws.OPEN) {
          conn.close();
          return;
        }
        const tcp = conn.socket;
        sockets.set(data, tcp);
        for (const d of early.get(data) ?? []) toPod(tcp, d);
        early.delete(data);
        // What the pod sends waits while the client is behind.
        let waiting = false;
        tcp.on('data', (d: Buffer) => {
          codec.send(data, d);
          if (waiting || ws.bufferedAmount < HIGH_WATER) return;
          waiting = true;
          tcp.pause();
          void drained(ws).then(() => {
            waiting = false;
            if (!tcp.destroyed) tcp.resume();
          });
        });
        tcp.resume(); // the relay's connection comes paused
        // A channel has no half-close: the pod's end of the connection is its end.
        tcp.once('end', () => tcp.end());
        tcp.once('close', () => {
          sockets.delete(data);
          done();
        });
      },
      (e: Error) => {
        log.debug('CRI port-forward: dial failed', { pod: podSandboxId, port, error: e.message });
        codec.send(error, `error forwarding port ${port} to pod ${podSandboxId}: ${e.message}`);
        early.delete(data);
        done();
      },
    );
  });
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const message = codec.parse(raw, isBinary);
    if (!message || message.channel % 2 !== 0) return;
    const tcp = sockets.get(message.channel);
    if (tcp) toPod(tcp, message.data);
    else early.get(message.channel)?.push(Buffer.from(message.data));
  });
  ws.once('close', () => {
    for (const tcp of sockets.values()) tcp.destroy();
    sockets.clear();
  });
}
