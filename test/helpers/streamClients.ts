// Clients of the CRI streaming server (runtime/cri/streaming/), as
// Kubernetes' own speak to the kubelet's: over SPDY/3.1 (npm spdy-transport
// as a client, opening the streams client-go opens, with their
// `streamType`/`port`/`requestID` headers) and over WebSocket (npm ws,
// with the channel framing of @kubernetes/client-node, binary or base64),
// and SPDY tunnelled in WebSocket binary messages as client-go's tunnelling
// dialer (kubectl ≥ 1.30 port-forward). Output is collected as text;
// `waitFor` resolves once some text has come. `pause()`/`resume()` stop and
// restart reading the connection, as a client that does not read.
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as transport from 'spdy-transport';
import type { SpdyClientStream, SpdyConnection } from 'spdy-transport';
import { WebSocket, createWebSocketStream } from 'ws';

/** Text that arrives piece by piece; `waitFor(s)` resolves when it contains `s`, rejects if it ended without. */
export class Collected {
  text = '';
  private ended = false;
  private readonly waiters: { needle: string; resolve(): void; reject(e: Error): void }[] = [];
  readonly done: Promise<string>;
  private finish!: (text: string) => void;

  constructor(readonly name: string) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** The bytes as they came (text decodes them; binary output needs these). */
  readonly chunks: Buffer[] = [];

  /** How many bytes came. */
  bytes = 0;
  /** False: only count the bytes (for amounts too big to keep). */
  keep = true;

  push(data: Buffer | string): void {
    this.bytes += Buffer.byteLength(data);
    if (!this.keep) return;
    this.chunks.push(Buffer.from(data));
    this.text += data.toString();
    for (const w of [...this.waiters]) {
      if (this.text.includes(w.needle)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.waiters.splice(0))
      w.reject(new Error(`${this.name} ended without ${JSON.stringify(w.needle)}: ${JSON.stringify(this.text)}`));
    this.finish(this.text);
  }

  waitFor(needle: string): Promise<void> {
    if (this.text.includes(needle)) return Promise.resolve();
    if (this.ended) return Promise.reject(new Error(`${this.name} ended without ${JSON.stringify(needle)}: ${JSON.stringify(this.text)}`));
    return new Promise((resolve, reject) => this.waiters.push({ needle, resolve, reject }));
  }
}

/** An HTTP refusal of an upgrade: its status and body. */
export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.trim()}`);
  }
}

/** Sends an upgrade request: a plain HTTP answer instead of the upgrade rejects with Refused, as does a failed request. */
function sendUpgrade(req: http.ClientRequest, reject: (e: Error) => void): void {
  req.on('response', (res) => {
    let body = '';
    res.on('data', (d: Buffer) => (body += d.toString()));
    res.on('end', () => reject(new Refused(res.statusCode ?? 0, body)));
  });
  req.on('error', reject);
  req.end();
}

/** Upgrades `url` to SPDY/3.1 offering `protocols`; resolves with the connection and the protocol the server chose. */
export function spdyConnect(
  url: string,
  protocols: readonly string[],
): Promise<{ conn: SpdyConnection; protocol: string; close(): void; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': [...protocols] },
    });
    req.on('upgrade', (res, socket, head) => {
      if (head.length) socket.unshift(head);
      const conn = transport.connection.create(socket, { protocol: 'spdy', isServer: false });
      conn.start(3.1);
      conn.on('error', () => undefined);
      resolve({ conn, protocol: String(res.headers['x-stream-protocol-version'] ?? ''), close: () => socket.destroy(), socket });
    });
    sendUpgrade(req, reject);
  });
}

function openStream(conn: SpdyConnection, headers: Record<string, string>): SpdyClientStream {
  const stream = conn.request({ method: 'POST', path: '/', host: 'streaming', headers });
  stream.on('error', () => undefined);
  return stream;
}

export interface CommandOptions {
  readonly stdin?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  readonly tty?: boolean;
}

/** A running exec or attach as a client sees it. */
export interface CommandClient {
  readonly protocol: string;
  readonly stdout: Collected;
  readonly stderr: Collected;
  /** The error stream's content once the command is over (v4/v5: a Status as JSON). */
  readonly error: Promise<string>;
  write(data: string): void;
  endStdin(): void;
  resize(width: number, height: number): void;
  /** Goes away without a word (the socket is destroyed). */
  abandon(): void;
}

/** Exec or attach over SPDY, opening the streams client-go opens (error first). */
export async function spdyCommand(url: string, opts: CommandOptions, protocols = ['v4.channel.k8s.io']): Promise<CommandClient> {
  const { conn, protocol, close } = await spdyConnect(url, protocols);
  const error = new Collected('error');
  const stdout = new Collected('stdout');
  const stderr = new Collected('stderr');
  const collect = (stream: SpdyClientStream, into: Collected) => {
    stream.on('data', (d: Buffer) => into.push(d));
    stream.on('end', () => into.end());
    stream.on('close', () => into.end());
  };
  const errorStream = openStream(conn, { streamtype: 'error' });
  errorStream.end();
  collect(errorStream, error);
  const stdinStream = opts.stdin ? openStream(conn, { streamtype: 'stdin' }) : undefined;
  if (opts.stdout) collect(openStream(conn, { streamtype: 'stdout' }), stdout);
  else stdout.end();
  if (opts.stderr) collect(openStream(conn, { streamtype: 'stderr' }), stderr);
  else stderr.end();
  const resizeStream = opts.tty ? openStream(conn, { streamtype: 'resize' }) : undefined;
  for (const s of [errorStream, stdinStream, resizeStream]) s?.resume();
  return {
    protocol,
    stdout,
    stderr,
    error: error.done,
    write: (data) => stdinStream!.write(data),
    endStdin: () => stdinStream!.end(),
    resize: (Width, Height) => resizeStream!.write(`${JSON.stringify({ Width, Height })}\n`),
    abandon: close,
  };
}

/**
 * Opens a WebSocket on `url` offering `protocols`; a refused upgrade rejects
 * with Refused. `onMessage` is set before the open: the server may send at once.
 */
export function wsConnect(
  url: string,
  protocols: readonly string[],
  onMessage?: (data: Buffer, isBinary: boolean) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), [...protocols]);
    if (onMessage) ws.on('message', (data: Buffer, isBinary: boolean) => onMessage(data, isBinary));
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new Refused(res.statusCode ?? 0, body)));
    });
    ws.once('error', reject);
  });
}

/** Exec or attach over WebSocket (v5 or v4 channels, as @kubernetes/client-node; a base64 protocol when the server picks one). */
export async function wsCommand(url: string, protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io']): Promise<CommandClient> {
  const stdout = new Collected('stdout');
  const stderr = new Collected('stderr');
  const error = new Collected('error');
  const ws = await wsConnect(url, protocols, (data, isBinary) => {
    if (!data.length) return;
    // A base64 protocol's text message: the channel is an ASCII digit, the rest base64.
    const base64 = !isBinary;
    const channel = base64 ? data[0] - 0x30 : data[0];
    const body = base64 ? Buffer.from(data.subarray(1).toString(), 'base64') : data.subarray(1);
    const into = [undefined, stdout, stderr, error][channel];
    into?.push(body);
  });
  const base64 = ws.protocol.includes('base64.');
  ws.on('close', () => [stdout, stderr, error].forEach((c) => c.end()));
  const send = (channel: number, data: Buffer | string) =>
    base64
      ? ws.send(String.fromCharCode(0x30 + channel) + Buffer.from(data).toString('base64'))
      : ws.send(Buffer.concat([Buffer.of(channel), Buffer.from(data)]));
  return {
    protocol: ws.protocol,
    stdout,
    stderr,
    error: error.done,
    write: (data) => send(0, data),
    endStdin: () => send(255, Buffer.of(0)),
    resize: (Width, Height) => send(4, JSON.stringify({ Width, Height })),
    abandon: () => ws.terminate(),
  };
}

/** One forwarded connection over SPDY: the data stream's bytes, and what the error stream said. */
export interface ForwardedStream {
  readonly data: Collected;
  readonly error: Promise<string>;
  write(data: string | Buffer): void;
  end(): void;
  /** Bytes written that the client still holds (the server has not taken them). */
  unsent(): number;
}

/** A port-forward SPDY connection: `forward(port)` opens an error and a data stream with a new requestID. */
export interface SpdyPortForward {
  readonly protocol: string;
  forward(port: number): ForwardedStream;
  close(): void;
  /** Stops reading the connection (a client that does not read), and starts again. */
  pause(): void;
  resume(): void;
}

/** Port-forward over SPDY (`portforward.k8s.io`). */
export async function spdyPortForward(url: string): Promise<SpdyPortForward> {
  const { conn, protocol, close, socket } = await spdyConnect(url, ['portforward.k8s.io']);
  return portForwardOver(conn, protocol, close, socket);
}

function portForwardOver(conn: SpdyConnection, protocol: string, close: () => void, readable: Duplex): SpdyPortForward {
  let requestId = 0;
  return {
    protocol,
    close,
    pause: () => readable.pause(),
    resume: () => readable.resume(),
    forward(port) {
      const id = String(requestId++);
      const error = new Collected('error');
      const data = new Collected('data');
      const errorStream = openStream(conn, { streamtype: 'error', port: String(port), requestid: id });
      errorStream.end();
      errorStream.on('data', (d: Buffer) => error.push(d));
      errorStream.on('end', () => error.end());
      errorStream.on('close', () => error.end());
      const dataStream = openStream(conn, { streamtype: 'data', port: String(port), requestid: id });
      dataStream.on('data', (d: Buffer) => data.push(d));
      dataStream.on('end', () => data.end());
      dataStream.on('close', () => data.end());
      return {
        data,
        error: error.done,
        write: (s) => dataStream.write(s),
        end: () => dataStream.end(),
        unsent: () => dataStream.writableLength,
      };
    },
  };
}

/**
 * A WebSocket handshake of our own, for a subprotocol npm ws will not send
 * (`SPDY/3.1+portforward.k8s.io` has a `/`, not an RFC 6455 token); the
 * upgraded socket is then handed to ws as a client's.
 */
export function wsConnectRaw(url: string, protocol: string): Promise<WebSocket> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': key,
        'Sec-WebSocket-Protocol': protocol,
      },
    });
    req.on('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) return reject(new Error('bad Sec-WebSocket-Accept'));
      if (res.headers['sec-websocket-protocol'] !== protocol)
        return reject(new Error(`the server chose ${JSON.stringify(res.headers['sec-websocket-protocol'])}`));
      // ws's own hand-over of an upgraded socket (its server's path), as a client: frames masked.
      const ws = new WebSocket(null as unknown as string, undefined, { autoPong: true }) as WebSocket & {
        _isServer: boolean;
        _protocol: string;
        setSocket(socket: net.Socket, head: Buffer, options: { maxPayload: number }): void;
      };
      ws._isServer = false;
      ws._protocol = protocol;
      ws.setSocket(socket, head, { maxPayload: 0 });
      resolve(ws);
    });
    sendUpgrade(req, reject);
  });
}

/** Port-forward as kubectl ≥ 1.30: a WebSocket offering `SPDY/3.1+portforward.k8s.io`, SPDY/3.1 in its binary messages. */
export async function wsTunnelPortForward(url: string): Promise<SpdyPortForward> {
  const ws = await wsConnectRaw(url, 'SPDY/3.1+portforward.k8s.io');
  const duplex = createWebSocketStream(ws);
  duplex.on('error', () => undefined);
  const conn = transport.connection.create(duplex, { protocol: 'spdy', isServer: false });
  conn.start(3.1);
  conn.on('error', () => undefined);
  const socket = (ws as unknown as { _socket: net.Socket })._socket;
  return portForwardOver(conn, ws.protocol, () => ws.terminate(), socket);
}

/** Port-forward over WebSocket to the URL's `ports`: per port its data, its error text, and the ports the server announced (binary or base64). */
export async function wsPortForward(
  url: string,
  ports: readonly number[],
  protocols = ['portforward.k8s.io'],
): Promise<{
  protocol: string;
  announced: Map<number, number>;
  data: Collected[];
  errors: Collected[];
  write(i: number, s: string | Buffer): void;
  closed: Promise<void>;
  /** Stops reading the connection (a client that does not read), and starts again. */
  pause(): void;
  resume(): void;
  close(): void;
  /** Sends `total` bytes on port i's channel one message after another, each once the one before left the client; `sent()` counts those gone. */
  pump(i: number, total: number): { sent(): number };
}> {
  const announced = new Map<number, number>();
  let allAnnounced!: () => void;
  const ready = new Promise<void>((resolve) => (allAnnounced = resolve));
  const data = ports.map((p) => new Collected(`data ${p}`));
  const errors = ports.map((p) => new Collected(`error ${p}`));
  const ws = await wsConnect(`${url}?${ports.map((p) => `ports=${p}`).join('&')}`, protocols, (m: Buffer, isBinary: boolean) => {
    const channel = isBinary ? m[0] : m[0] - 0x30;
    const body = isBinary ? m.subarray(1) : Buffer.from(m.subarray(1).toString(), 'base64');
    if (!announced.has(channel)) {
      announced.set(channel, body.readUInt16LE(0));
      if (announced.size === 2 * ports.length) allAnnounced();
      return;
    }
    (channel % 2 === 0 ? data : errors)[channel >> 1]?.push(body);
  });
  const base64 = ws.protocol.includes('base64.');
  const closed = new Promise<void>((resolve) =>
    ws.once('close', () => {
      [...data, ...errors].forEach((c) => c.end());
      resolve();
    }),
  );
  // Each channel's first message is its port: the connection is ready once all came.
  await Promise.race([ready, closed]);
  return {
    protocol: ws.protocol,
    announced,
    data,
    errors,
    write: (i, s) =>
      base64
        ? ws.send(String.fromCharCode(0x30 + 2 * i) + Buffer.from(s).toString('base64'))
        : ws.send(Buffer.concat([Buffer.of(2 * i), Buffer.from(s)])),
    closed,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.terminate(),
    pump: (i, total) => {
      const chunk = Buffer.concat([Buffer.of(2 * i), Buffer.alloc(64 * 1024, 0x62)]);
      let sent = 0;
      const next = (e?: Error) => {
        if (e || sent >= total || ws.readyState !== ws.OPEN) return;
        ws.send(chunk, (err) => {
          if (!err) sent += chunk.length - 1;
          next(err);
        });
      };
      next();
      return { sent: () => sent };
    },
  };
}
