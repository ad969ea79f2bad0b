/**
 * Exec, attach and port-forward over WebSocket, as the kubelet serves them
 * (protocol.ts has the framing): every message starts with its channel.
 * - Exec/attach (`v5.channel.k8s.io`, `v4.channel.k8s.io`): 0 stdin,
 *   1 stdout, 2 stderr, 3 error (the Status at the end), 4 resize; v5's
 *   channel 255 with byte 0 closes stdin.
 * - Port-forward: per port of the URL's query (`ports=`/`port=`, else the
 *   request's), channel 2i its data and 2i+1 its errors; each channel's
 *   first server message is its port (two bytes, little-endian).
 */
import type { WebSocket } from 'ws';
import type { Ctx } from '../../context';
import type { Logger } from '../../util/log';
import { Channel, ResizeDecoder, channelMessage, parseChannelMessage, portPrefix, statusJson, versionOf } from './protocol';
import { runCommand } from './remoteCommand';
import type { CommandRequest, StreamingRuntime } from './streaming';

const NORMAL_CLOSURE = 1000;

const send = (ws: WebSocket, message: Buffer) => {
  if (ws.readyState === ws.OPEN) ws.send(message);
};

/** Above this much unsent, output waits for the client. */
const HIGH_WATER = 1024 * 1024;

/** Resolves once what is queued on the WebSocket is below the mark (an empty message's callback comes after all before it). */
function drained(ws: WebSocket): Promise<void> {
  if (ws.readyState !== ws.OPEN || ws.bufferedAmount < HIGH_WATER) return Promise.resolve();
  return new Promise((resolve) => {
    ws.ping(undefined, undefined, () => resolve());
    ws.once('close', () => resolve());
  });
}

export function serveWsCommand(ctx: Ctx, ws: WebSocket, request: CommandRequest, runtime: StreamingRuntime, log: Logger): void {
  const version = versionOf(ws.protocol);
  const resizes = new ResizeDecoder();
  const control = runCommand(
    ctx,
    runtime,
    request,
    {
      stdout: (data) => send(ws, channelMessage(Channel.stdout, data)),
      stderr: (data) => send(ws, channelMessage(Channel.stderr, data)),
      drained: () => drained(ws),
      finish: (outcome) => {
        send(ws, channelMessage(Channel.error, statusJson(outcome)));
        ws.close(NORMAL_CLOSURE);
      },
    },
    log,
  );
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const message = parseChannelMessage(isBinary ? raw : Buffer.from(raw));
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

export function serveWsPortForward(
  ctx: Ctx,
  ws: WebSocket,
  podSandboxId: string,
  ports: readonly number[],
  runtime: StreamingRuntime,
  log: Logger,
): void {
  const sockets = new Map<number, import('node:net').Socket>();
  const early = new Map<number, Buffer[]>();
  let open = ports.length;
  const done = () => {
    if (--open === 0) ws.close(NORMAL_CLOSURE);
  };
  ports.forEach((port, i) => {
    const data = 2 * i;
    const error = data + 1;
    send(ws, portPrefix(data, port));
    send(ws, portPrefix(error, port));
    early.set(data, []);
    runtime.dial(ctx, podSandboxId, port).then(
      (conn) => {
        if (ws.readyState !== ws.OPEN) {
          conn.close();
          return;
        }
        const tcp = conn.socket;
        sockets.set(data, tcp);
        for (const d of early.get(data) ?? []) tcp.write(d);
        early.delete(data);
        tcp.on('data', (d: Buffer) => send(ws, channelMessage(data, d)));
        tcp.resume(); // the relay's connection comes paused
        tcp.once('close', () => {
          sockets.delete(data);
          done();
        });
      },
      (e: Error) => {
        log.debug('CRI port-forward: dial failed', { pod: podSandboxId, port, error: e.message });
        send(ws, channelMessage(error, `error forwarding port ${port} to pod ${podSandboxId}: ${e.message}`));
        early.delete(data);
        done();
      },
    );
  });
  ws.on('message', (raw: Buffer) => {
    const message = parseChannelMessage(raw);
    if (!message || message.channel % 2 !== 0) return;
    const tcp = sockets.get(message.channel);
    if (tcp) tcp.write(message.data);
    else early.get(message.channel)?.push(Buffer.from(message.data));
  });
  ws.once('close', () => {
    for (const tcp of sockets.values()) tcp.destroy();
    sockets.clear();
  });
}
