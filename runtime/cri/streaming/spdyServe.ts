/**
 * Exec, attach and port-forward over SPDY/3.1 (spdySession.ts), as the
 * kubelet serves them: the client opens one stream per part, named by its
 * `streamType` header.
 * - Exec/attach (`v4.channel.k8s.io` … `channel.k8s.io`): `error` always,
 *   `stdin`/`stdout`/`stderr` as the request asked, `resize` with a TTY
 *   (v3 and later). The command starts once they are all there; at its end
 *   the error stream carries the outcome (v4: a Status; older: text on
 *   failure only) and the connection closes.
 * - Port-forward (`portforward.k8s.io`): per connection, an `error` and a
 *   `data` stream with the same `requestID` and the `port`; the data stream
 *   is the TCP connection's bytes, each direction ending on its own.
 *   Neither side buffers without bound: the pod's socket pauses until the
 *   client has taken what was sent, and the stream's window stays shut
 *   while the pod's socket is full (docs/cri.md, "Backpressure").
 */
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Ctx } from '../../context';
import type { Logger } from '../../util/log';
import { legacyError, ResizeDecoder, statusJson, versionOf } from './protocol';
import { runCommand, type CommandControl } from './remoteCommand';
import { SpdySession, type SpdyStream } from './spdySession';
import { RST_REFUSED_STREAM } from './spdyFrames';
import type { CommandRequest, PortForwardStreamRequest, StreamingRuntime } from './streaming';

/** The kubelet's streamCreationTimeout: a client that does not open its streams by then is dropped. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

type CommandStreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

export function serveSpdyCommand(
  ctx: Ctx,
  socket: Duplex,
  protocol: string,
  request: CommandRequest,
  runtime: StreamingRuntime,
  log: Logger,
): SpdySession {
  const version = versionOf(protocol);
  const expected = new Set<CommandStreamType>(['error']);
  if (request.stdin) expected.add('stdin');
  if (request.stdout) expected.add('stdout');
  if (request.stderr) expected.add('stderr');
  if (request.tty && version >= 3) expected.add('resize');
  const streams = new Map<CommandStreamType, SpdyStream>();
  let control: CommandControl | undefined;
  const early: Array<(c: CommandControl) => void> = [];
  const whenStarted = (fn: (c: CommandControl) => void) => (control ? fn(control) : early.push(fn));

  const session = new SpdySession(socket, (stream) => {
    const type = stream.headers.streamtype as CommandStreamType;
    if (!expected.has(type) || streams.has(type)) {
      stream.reset(RST_REFUSED_STREAM);
      return;
    }
    streams.set(type, stream);
    if (type === 'stdin') {
      stream.on('data', (data: Buffer) => whenStarted((c) => c.stdin(data)));
      stream.on('end', () => whenStarted((c) => c.stdinEnd()));
    } else if (type === 'resize') {
      const decoder = new ResizeDecoder();
      stream.on('data', (data: Buffer) => {
        for (const size of decoder.push(data)) whenStarted((c) => c.resize(size));
      });
    }
    if (streams.size === expected.size) start();
  });
  const timer = setTimeout(() => {
    log.warn('CRI stream: the client did not open its streams in time', { kind: request.kind, container: request.containerId });
    session.destroy();
  }, STREAM_CREATION_TIMEOUT_MS);
  session.once('close', () => {
    clearTimeout(timer);
    control?.gone();
  });

  function start(): void {
    clearTimeout(timer);
    control = runCommand(
      ctx,
      runtime,
      request,
      {
        stdout: (data) => streams.get('stdout')?.write(data),
        stderr: (data) => streams.get('stderr')?.write(data),
        drained: () => session.drained(),
        finish: (outcome) => {
          const error = streams.get('error')!;
          const message = version >= 4 ? statusJson(outcome) : legacyError(outcome);
          if (message) error.write(Buffer.from(message));
          for (const stream of streams.values()) stream.end();
          session.close();
        },
      },
      log,
    );
    for (const fn of early.splice(0)) fn(control);
  }
  return session;
}

interface ForwardPair {
  error?: SpdyStream;
  data?: SpdyStream;
  /** What went wrong before the error stream came. */
  failure?: string;
}

export function serveSpdyPortForward(
  ctx: Ctx,
  socket: Duplex,
  request: PortForwardStreamRequest,
  runtime: StreamingRuntime,
  log: Logger,
): SpdySession {
  const pairs = new Map<string, ForwardPair>();
  const fail = (pair: ForwardPair, message: string) => {
    if (!pair.error) {
      pair.failure = message;
      return;
    }
    pair.error.end(Buffer.from(message));
  };
  const session = new SpdySession(socket, (stream) => {
    const type = stream.headers.streamtype;
    const key = stream.headers.requestid ?? stream.headers.port ?? '';
    const pair = pairs.get(key) ?? {};
    pairs.set(key, pair);
    stream.once('close', () => {
      if (pair.error === stream || pair.data === stream) if (!pair.error || !pair.data) pairs.delete(key);
    });
    if (type === 'error') {
      pair.error = stream;
      if (pair.failure) stream.end(Buffer.from(pair.failure));
      return;
    }
    if (type !== 'data' || pair.data) {
      stream.reset(RST_REFUSED_STREAM);
      return;
    }
    pair.data = stream;
    const port = Number(stream.headers.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      fail(pair, `invalid port ${JSON.stringify(stream.headers.port ?? '')}`);
      stream.end();
      return;
    }
    // Bytes that come while we connect wait in the stream's buffer of listeners below.
    const pending: Buffer[] = [];
    let ended = false;
    const onData = (d: Buffer) => pending.push(d);
    const onEnd = () => (ended = true);
    stream.on('data', onData);
    stream.on('end', onEnd);
    runtime.dial(ctx, request.podSandboxId, port).then(
      (conn) => {
        stream.off('data', onData);
        stream.off('end', onEnd);
        relay(conn.socket, stream, pending, ended || stream.ended, session);
        const tcp = conn.socket;
        stream.once('close', () => conn.close());
        tcp.once('close', () => {
          stream.end();
          pair.error?.end();
          pairs.delete(key);
        });
      },
      (e: Error) => {
        log.debug('CRI port-forward: dial failed', { pod: request.podSandboxId, port, error: e.message });
        fail(pair, `error forwarding port ${port} to pod ${request.podSandboxId}: ${e.message}`);
        stream.end();
      },
    );
  });
  return session;
}

/** Past this much unwritten to the pod, a client that ignores the shut window has its connection no longer read. */
const POD_BUFFER_LIMIT = 1024 * 1024;

/**
 * The bytes of one forwarded connection, both ways, with backpressure: what
 * the pod sends waits for the client (the SPDY connection has room), and
 * what the client sends holds the stream's window while the pod's socket is
 * full (and, past POD_BUFFER_LIMIT, the connection's reading). `pending`
 * came before the dial finished.
 */
function relay(tcp: net.Socket, stream: SpdyStream, pending: readonly Buffer[], ended: boolean, session: SpdySession): void {
  let readingPaused = false;
  const resumeReading = () => {
    if (!readingPaused) return;
    readingPaused = false;
    session.resumeReading();
  };
  const toPod = (d: Buffer) => {
    if (!tcp.write(d)) stream.hold();
    if (!readingPaused && tcp.writableLength > POD_BUFFER_LIMIT) {
      readingPaused = true;
      session.pauseReading();
    }
  };
  tcp.on('drain', () => {
    stream.release();
    resumeReading();
  });
  tcp.once('close', resumeReading);
  for (const d of pending) toPod(d);
  if (ended) tcp.end();
  else {
    stream.on('data', toPod);
    stream.on('end', () => tcp.end());
  }
  let waiting = false;
  tcp.on('data', (d: Buffer) => {
    stream.write(d);
    if (waiting) return;
    waiting = true;
    tcp.pause();
    void session.drained().then(() => {
      waiting = false;
      if (!tcp.destroyed) tcp.resume();
    });
  });
  tcp.resume(); // the relay's connection comes paused
  tcp.once('end', () => stream.end());
}
