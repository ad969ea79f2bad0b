/**
 * The CRI streaming server: an HTTP server beside the CRI socket (default
 * 127.0.0.1 on an ephemeral port) serving the URLs Exec, Attach and
 * PortForward answer. A request takes its token (tokens.ts: unknown, used
 * or expired → 404), then upgrades to SPDY/3.1 or WebSocket with a
 * subprotocol both sides speak (otherwise 400 with the reason). Every
 * connection lives on its own; closing the server ends them all.
 */
import * as http from 'node:http';
import type * as net from 'node:net';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../util/log';
import {
  SPDY_COMMAND_PROTOCOLS,
  SPDY_PORTFORWARD_PROTOCOLS,
  SPDY_TUNNEL_PORTFORWARD,
  WS_COMMAND_PROTOCOLS,
  WS_PORTFORWARD_PROTOCOLS,
  negotiate,
} from './protocol';
import { serveSpdyCommand, serveSpdyPortForward } from './spdyServe';
import { TokenCache } from './tokens';
import { portsOf, serveWsCommand, serveWsPortForward, serveWsSpdyTunnel } from './wsServe';
import type { StreamRequest, StreamingRuntime, StreamingSettings, StreamUrls } from './streaming';

const ROUTE = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

export class StreamingServer implements StreamUrls {
  private readonly tokens = new TokenCache<StreamRequest>();
  private readonly sockets = new Set<net.Socket>();
  private readonly lifetime = new AbortController();
  private readonly ws = new WebSocketServer({ noServer: true, handleProtocols: (_offered, req) => this.chosen.get(req) ?? false });
  private readonly chosen = new WeakMap<http.IncomingMessage, string>();
  private base = '';

  private constructor(
    private readonly http: http.Server,
    private readonly runtime: StreamingRuntime,
    private readonly log: Logger,
  ) {}

  static async start(settings: StreamingSettings, runtime: StreamingRuntime, log: Logger): Promise<StreamingServer> {
    const server = new StreamingServer(http.createServer(), runtime, log);
    await server.listen(settings.address ?? '127.0.0.1', settings.port ?? 0);
    return server;
  }

  /** `http://ADDRESS:PORT`, as bound. */
  get address(): string {
    return this.base;
  }

  urlFor(request: StreamRequest): string {
    return `${this.base}/${request.kind}/${this.tokens.put(request)}`;
  }

  /** Stops listening and ends every connection. Idempotent. */
  async close(): Promise<void> {
    this.lifetime.abort();
    for (const socket of this.sockets) socket.destroy();
    this.ws.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async listen(address: string, port: number): Promise<void> {
    const server = this.http;
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (req, res) => this.plain(req, res));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    this.base = `http://${host}:${bound.port}`;
    this.log.info('CRI streaming server listening', { address: this.base });
  }

  /** A request without an upgrade: the token is spent all the same (it was used), and the answer says what is needed. */
  private plain(req: http.IncomingMessage, res: http.ServerResponse): void {
    const found = this.take(req);
    if (typeof found === 'string') return void reply(res, 404, found);
    reply(res, 400, 'a streaming URL needs an upgrade to SPDY/3.1 or websocket');
  }

  private take(req: http.IncomingMessage): { request: StreamRequest; url: URL } | string {
    const url = new URL(req.url ?? '/', 'http://streaming');
    const m = ROUTE.exec(url.pathname);
    if (!m) return 'not found';
    const request = this.tokens.take(m[2]);
    if (!request || request.kind !== m[1]) return 'unknown or expired token';
    return { request, url };
  }

  private upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const found = this.take(req);
    if (typeof found === 'string') return refuse(socket, 404, found);
    const { request, url } = found;
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const ctx = { signal: this.lifetime.signal };
    if (upgrade === 'websocket') {
      const supported = request.kind === 'portforward' ? WS_PORTFORWARD_PROTOCOLS : WS_COMMAND_PROTOCOLS;
      const offered = req.headers['sec-websocket-protocol'];
      const protocol = negotiate(offered, supported);
      if (!protocol && (request.kind !== 'portforward' || offered)) {
        return refuse(
          socket,
          400,
          `unable to negotiate a protocol: the client offers [${offered ?? ''}], the server speaks [${supported.join(', ')}]`,
        );
      }
      if (protocol) this.chosen.set(req, protocol);
      // npm ws refuses a header with a name that is not an RFC 6455 token (the tunnel's has a `/`): it sees a stand-in, and answers the chosen name.
      if (protocol === SPDY_TUNNEL_PORTFORWARD) req.headers['sec-websocket-protocol'] = 'spdy-tunnel';
      let ports: readonly number[] = [];
      if (request.kind === 'portforward' && protocol !== SPDY_TUNNEL_PORTFORWARD) {
        const p = portsOf(url.searchParams, request.ports);
        if (typeof p === 'string') return refuse(socket, 400, p);
        if (!p.length) return refuse(socket, 400, 'no port to forward');
        ports = p;
      }
      this.ws.handleUpgrade(req, socket, head, (ws) => {
        if (request.kind === 'portforward' && ws.protocol === SPDY_TUNNEL_PORTFORWARD)
          serveWsSpdyTunnel(ctx, ws, request, this.runtime, this.log);
        else if (request.kind === 'portforward') serveWsPortForward(ctx, ws, request.podSandboxId, ports, this.runtime, this.log);
        else serveWsCommand(ctx, ws, request, this.runtime, this.log);
      });
      return;
    }
    if (upgrade === 'spdy/3.1') {
      const supported = request.kind === 'portforward' ? SPDY_PORTFORWARD_PROTOCOLS : SPDY_COMMAND_PROTOCOLS;
      const offered = req.headers['x-stream-protocol-version'];
      // No header at all: the oldest protocol, as the kubelet takes it.
      const protocol = offered ? negotiate(offered, supported) : supported[supported.length - 1];
      if (!protocol) {
        return refuse(
          socket,
          400,
          `unable to negotiate a protocol: the client offers [${offered}], the server speaks [${supported.join(', ')}]`,
        );
      }
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
      );
      if (head.length) socket.unshift(head);
      if (request.kind === 'portforward') serveSpdyPortForward(ctx, socket, request, this.runtime, this.log);
      else serveSpdyCommand(ctx, socket, protocol, request, this.runtime, this.log);
      return;
    }
    refuse(socket, 400, `unsupported upgrade ${JSON.stringify(req.headers.upgrade ?? '')}: want SPDY/3.1 or websocket`);
  }
}

function reply(res: http.ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

function refuse(socket: net.Socket, code: number, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
