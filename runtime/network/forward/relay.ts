/**
 * The port-forward relay: `gantry.js __port-relay PORT`, started by gantryd
 * under `nsenter --net=<namespace>` (dial.ts), so that 127.0.0.1 is the
 * container's loopback. It connects to 127.0.0.1:PORT and copies fd 0 to the
 * connection and the connection to fd 1, each direction ending on its own
 * (TCP half-close). fd 2 carries one line for gantryd: `connected`, or
 * `error CODE message`; an error after the connection was made ends the
 * relay with exit code 1 after such a line.
 *
 * fd 0 and 1 are the socket pairs Node's child_process makes for 'pipe', so
 * they are opened as sockets here: non-blocking, with flow control both ways
 * (process.stdout would write synchronously to a pipe and stall the other
 * direction while the reader is slow). docs/networking.md, "Port forwarding".
 */
import * as net from 'node:net';

export const RELAY_COMMAND = '__port-relay';

export async function portRelayMain(argv: string[]): Promise<number> {
  const port = Number(argv[0]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`error EINVAL invalid port ${JSON.stringify(argv[0])}\n`);
    return 2;
  }
  const input = new net.Socket({ fd: 0, readable: true, writable: false, allowHalfOpen: true });
  const output = new net.Socket({ fd: 1, readable: false, writable: true });
  const conn = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  conn.setNoDelay(true);
  return new Promise<number>((resolve) => {
    let failed = false;
    const fail = (e: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      process.stderr.write(`error ${e.code ?? 'EIO'} ${e.message}\n`, () => resolve(1));
      conn.destroy();
      input.destroy();
      output.destroy();
    };
    conn.once('error', fail);
    // gantryd gone or the call over: nothing more will be read, so the relay ends.
    output.once('error', () => {
      conn.destroy();
      input.destroy();
      resolve(0);
    });
    input.once('error', () => undefined);
    conn.once('connect', () => {
      process.stderr.write('connected\n');
      input.pipe(conn);
      conn.pipe(output);
    });
    let outputDone = false;
    let connClosed = false;
    const maybeDone = () => {
      if (outputDone && connClosed && !failed) resolve(0);
    };
    output.once('finish', () => {
      outputDone = true;
      maybeDone();
    });
    conn.once('close', () => {
      connClosed = true;
      if (!failed) {
        // The connection closed without an end (reset): make sure our side ends too.
        if (!output.writableEnded) output.end();
        input.destroy();
      }
      maybeDone();
    });
  });
}
