/**
 * The port-forward relay: `gantry.js __port-relay SOCKET IDLE_MS`, started by
 * gantryd under `nsenter --net=<namespace>` (dial.ts), so that its
 * 127.0.0.1 is the container's loopback. It serves a unix socket (a path:
 * unlike TCP, reachable from gantryd's namespace). Each connection to it
 * starts with one line, the port; the relay connects to 127.0.0.1:PORT and
 * answers `connected` (then the bytes are copied both ways, each direction
 * ending on its own, TCP half-close), or `error CODE message` and closes.
 *
 * One relay per namespace serves every connection: starting node under
 * nsenter costs far more than a connection (docs/networking.md, "Port
 * forwarding"). It exits when it had no connection for IDLE_MS, and when
 * gantryd goes away (its stdin, a pipe from gantryd, ends).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

export const RELAY_COMMAND = '__port-relay';

/** The first line of a relay connection is at most this long ("65535\n"). */
const MAX_HEADER = 16;

export async function portRelayMain(argv: string[]): Promise<number> {
  const [socketPath, idleText] = argv;
  const idleMs = Number(idleText);
  if (!socketPath || !Number.isInteger(idleMs) || idleMs <= 0) {
    process.stderr.write('usage: __port-relay SOCKET IDLE_MS\n');
    return 2;
  }
  fs.rmSync(socketPath, { force: true });
  return new Promise<number>((resolve) => {
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      idle = setTimeout(() => stop(0), idleMs);
    };
    const server = net.createServer({ allowHalfOpen: true }, (conn) => {
      open++;
      clearTimeout(idle);
      conn.once('close', () => {
        if (--open === 0) armIdle();
      });
      serve(conn);
    });
    const stop = (code: number) => {
      server.close();
      fs.rmSync(socketPath, { force: true });
      resolve(code);
    };
    server.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`error ${e.code ?? 'EIO'} ${e.message}\n`);
      stop(1);
    });
    server.listen(socketPath, () => {
      process.stderr.write('listening\n');
      armIdle();
    });
    process.stdin.once('end', () => stop(0));
    process.stdin.once('error', () => stop(0));
    process.stdin.resume();
  });
}

/** One relayed connection: the port line, the connect, then bytes both ways. */
function serve(conn: net.Socket): void {
  let header = '';
  const onData = (chunk: Buffer) => {
    header += chunk.toString('latin1');
    const nl = header.indexOf('\n');
    if (nl < 0) {
      if (header.length > MAX_HEADER) conn.destroy();
      return;
    }
    conn.off('data', onData);
    conn.pause();
    const rest = Buffer.from(header.slice(nl + 1), 'latin1');
    const port = Number(header.slice(0, nl));
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      conn.end(`error EINVAL invalid port ${JSON.stringify(header.slice(0, nl))}\n`);
      return;
    }
    let connected = false;
    let refused: NodeJS.ErrnoException | undefined;
    // localhost in the namespace: 127.0.0.1, else ::1 (a server bound to IPv6 loopback only).
    const dial = (host: string): net.Socket => {
      const socket = net.connect({ host, port, allowHalfOpen: true });
      socket.setNoDelay(true);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        if (!connected && host === '127.0.0.1' && e.code === 'ECONNREFUSED') {
          refused = e;
          target = dial('::1');
          target.once('connect', onConnect);
        } else if (!connected) {
          // No IPv6 in the namespace either: the IPv4 refusal is the answer.
          const why = refused && e.code !== 'ECONNREFUSED' ? refused : e;
          conn.end(`error ${why.code ?? 'EIO'} ${why.message}\n`);
        } else conn.destroy();
      });
      return socket;
    };
    let target = dial('127.0.0.1');
    const onConnect = () => {
      connected = true;
      conn.write('connected\n');
      if (rest.length) target.write(rest);
      conn.pipe(target);
      target.pipe(conn);
      conn.resume();
    };
    target.once('connect', onConnect);
    conn.once('error', () => target.destroy());
    conn.once('close', () => target.destroy());
  };
  conn.on('data', onData);
}
