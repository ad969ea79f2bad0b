// Clients of the CRI streaming server (runtime/cri/streaming/), as
// Kubernetes' own speak to the kubelet's: over SPDY/3.1 (npm spdy-transport
// as a client, opening the streams client-go opens, with their
// `streamType`/`port`/`requestID` headers) and over WebSocket (npm ws,
// with the channel framing of @kubernetes/client-node). Output is
// collected as text; `waitFor` resolves once some text has come.
import * as http from 'node:http';
import * as transport from 'spdy-transport';
import type { SpdyClientStream, SpdyConnection } from 'spdy-transport';
import { WebSocket } from 'ws';

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

  push(data: Buffer | string): void {
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

/** Upgrades `url` to SPDY/3.1 offering `protocols`; resolves with the connection and the protocol the server chose. */
export function spdyConnect(url: string, protocols: readonly string[]): Promise<{ conn: SpdyConnection; protocol: string; close(): void }> {
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
      resolve({ conn, protocol: String(res.headers['x-stream-protocol-version'] ?? ''), close: () => socket.destroy() });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new Refused(res.statusCode ?? 0, body)));
    });
    req.on('error', reject);
    req.end();
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
export function wsConnect(url: string, protocols: readonly string[], onMessage?: (data: Buffer) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), [...protocols]);
    if (onMessage) ws.on('message', onMessage);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new Refused(res.statusCode ?? 0, body)));
    });
    ws.once('error', reject);
  });
}

/** Exec or attach over WebSocket (v5 or v4 channels, as @kubernetes/client-node). */
export async function wsCommand(url: string, protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io']): Promise<CommandClient> {
  const stdout = new Collected('stdout');
  const stderr = new Collected('stderr');
  const error = new Collected('error');
  const ws = await wsConnect(url, protocols, (data) => {
    if (!data.length) return;
    const into = [undefined, stdout, stderr, error][data[0]];
    into?.push(data.subarray(1));
  });
  ws.on('close', () => [stdout, stderr, error].forEach((c) => c.end()));
  const send = (channel: number, data: Buffer | string) => ws.send(Buffer.concat([Buffer.of(channel), Buffer.from(data)]));
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
  write(data: string): void;
  end(): void;
}

/** Port-forward over SPDY (`portforward.k8s.io`): `forward(port)` opens an error and a data stream with a new requestID. */
export async function spdyPortForward(url: string): Promise<{ protocol: string; forward(port: number): ForwardedStream; close(): void }> {
  const { conn, protocol, close } = await spdyConnect(url, ['portforward.k8s.io']);
  let requestId = 0;
  return {
    protocol,
    close,
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
      return { data, error: error.done, write: (s) => dataStream.write(s), end: () => dataStream.end() };
    },
  };
}

/** Port-forward over WebSocket to the URL's `ports`: per port its data, its error text, and the ports the server announced. */
export async function wsPortForward(
  url: string,
  ports: readonly number[],
  protocols = ['portforward.k8s.io'],
): Promise<{
  protocol: string;
  announced: Map<number, number>;
  data: Collected[];
  errors: Collected[];
  write(i: number, s: string): void;
  closed: Promise<void>;
}> {
  const announced = new Map<number, number>();
  let allAnnounced!: () => void;
  const ready = new Promise<void>((resolve) => (allAnnounced = resolve));
  const data = ports.map((p) => new Collected(`data ${p}`));
  const errors = ports.map((p) => new Collected(`error ${p}`));
  const ws = await wsConnect(`${url}?${ports.map((p) => `ports=${p}`).join('&')}`, protocols, (m: Buffer) => {
    const channel = m[0];
    const body = m.subarray(1);
    if (!announced.has(channel)) {
      announced.set(channel, body.readUInt16LE(0));
      if (announced.size === 2 * ports.length) allAnnounced();
      return;
    }
    (channel % 2 === 0 ? data : errors)[channel >> 1]?.push(body);
  });
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
    write: (i, s) => ws.send(Buffer.concat([Buffer.of(2 * i), Buffer.from(s)])),
    closed,
  };
}
