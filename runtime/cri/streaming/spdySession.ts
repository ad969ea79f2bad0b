/**
 * The server side of a SPDY/3.1 connection (spdyFrames.ts) after the HTTP
 * upgrade: the client opens streams (SYN_STREAM with its headers), each is
 * answered at once (SYN_REPLY) and handed to `onStream`; bytes go both ways
 * in DATA frames, each side ends its half with FIN.
 *
 * Flow control as the Kubernetes SPDY library does it: what we receive is
 * acknowledged at once (WINDOW_UPDATE for the stream and the session, so a
 * client that keeps windows goes on sending); what we send is not held back
 * by the peer's window (that library never grants any). A client's PING is
 * echoed; GOAWAY or a closed socket ends every stream.
 *
 * Backpressure: a stream whose consumer is full (`hold()`) has its
 * WINDOW_UPDATEs kept back until `release()`, so a client that keeps
 * windows stops sending on that stream alone; one that does not is stopped
 * by `pauseReading()`; output waits on `drained()`.
 *
 * The connection is any Duplex: the upgraded TCP socket, or a WebSocket's
 * binary messages (the tunnelled SPDY of wsServe.ts).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  FLAG_FIN,
  FrameReader,
  FrameType,
  HeaderCodec,
  RST_PROTOCOL_ERROR,
  controlFrame,
  dataFrame,
  goAway,
  ping,
  rstStream,
  windowUpdate,
  type Frame,
  type Headers,
} from './spdyFrames';

/** How long a closing session waits for the client to close its streams. */
const CLOSE_GRACE_MS = 5_000;

/** DATA frames we send are at most this big (any size up to 2^24-1 is valid; smaller keeps streams interleaved). */
const MAX_DATA_FRAME = 32 * 1024;

/**
 * One stream of a session. Events: 'data' (Buffer), 'end' (the client's
 * FIN), 'close' (the stream is over: both halves ended, reset, or the
 * connection went away).
 */
export class SpdyStream extends EventEmitter {
  private localEnded = false;
  private remoteEnded = false;
  private closed = false;
  private held = false;
  /** Bytes received while held, acknowledged on release. */
  private unacknowledged = 0;

  constructor(
    readonly id: number,
    readonly headers: Headers,
    private readonly session: SpdySession,
  ) {
    super();
  }

  write(data: Buffer): void {
    if (this.localEnded || this.closed) return;
    for (let at = 0; at < data.length; at += MAX_DATA_FRAME) {
      this.session.send(dataFrame(this.id, 0, data.subarray(at, at + MAX_DATA_FRAME)));
    }
  }

  /** Our half is done (FIN). */
  end(data?: Buffer): void {
    if (this.localEnded || this.closed) return;
    if (data?.length) this.write(data);
    this.localEnded = true;
    this.session.send(dataFrame(this.id, FLAG_FIN, Buffer.alloc(0)));
    if (this.remoteEnded) this.close();
  }

  /** Ends both halves now (RST_STREAM). */
  reset(status: number): void {
    if (this.closed) return;
    this.session.send(rstStream(this.id, status));
    this.close();
  }

  get ended(): boolean {
    return this.remoteEnded;
  }

  /** The consumer is full: the client's window for this stream is not reopened until release(). */
  hold(): void {
    this.held = true;
  }

  /** Reopens the window by what came while held. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.unacknowledged && !this.closed && !this.remoteEnded) this.session.send(windowUpdate(this.id, this.unacknowledged));
    this.unacknowledged = 0;
  }

  /** @internal The session's side: a frame for this stream. */
  receive(data: Buffer, fin: boolean): void {
    if (this.remoteEnded) return;
    if (data.length) {
      if (this.held) this.unacknowledged += data.length;
      else this.session.send(windowUpdate(this.id, data.length));
    }
    if (data.length) this.emit('data', data);
    if (fin) {
      this.remoteEnded = true;
      this.emit('end');
      if (this.localEnded) this.close();
    }
  }

  /** @internal */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.forget(this.id);
    if (!this.remoteEnded) {
      this.remoteEnded = true;
      this.emit('end');
    }
    this.emit('close');
  }
}

export class SpdySession extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly headers = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private closed = false;
  private closing = false;
  private readPauses = 0;

  /** 'close' is emitted once, when the connection is over. */
  constructor(
    private readonly socket: Duplex & { setNoDelay?(noDelay?: boolean): unknown },
    private readonly onStream: (stream: SpdyStream) => void,
  ) {
    super();
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch {
        this.destroy();
        return;
      }
      for (const frame of frames) this.inbound = this.inbound.then(() => this.handle(frame)).catch(() => this.destroy());
    });
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('end', () => this.destroy());
  }

  /** @internal Queues a frame; frames leave in the order they were queued. */
  send(frame: Buffer | Promise<Buffer>): void {
    if (this.closed) return;
    if (Buffer.isBuffer(frame)) {
      this.outbound = this.outbound.then(() => {
        if (!this.closed) this.socket.write(frame);
      });
      return;
    }
    this.outbound = this.outbound.then(async () => {
      const bytes = await frame;
      if (!this.closed) this.socket.write(bytes);
    });
    this.outbound = this.outbound.catch(() => this.destroy());
  }

  /**
   * Stops reading the connection until as many resumeReading() calls: for a
   * client that sends past the window we keep shut (every stream of the
   * connection waits, as with the Kubernetes SPDY library's server).
   */
  pauseReading(): void {
    if (this.readPauses++ === 0) this.socket.pause();
  }

  resumeReading(): void {
    if (this.readPauses > 0 && --this.readPauses === 0 && !this.closed) this.socket.resume();
  }

  /** Resolves when the socket has room again (at once when it has, or the session is over). */
  drained(): Promise<void> {
    return this.outbound.then(() => {
      if (this.closed || !this.socket.writableNeedDrain) return;
      return new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.off('close', done);
          resolve();
        };
        this.socket.once('drain', done);
        this.once('close', done);
      });
    });
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
    if (this.streams.size === 0) this.emit('idle');
  }

  /**
   * Says goodbye (GOAWAY) and ends the connection once every stream is over
   * (the client read to our FIN and closed its side) or after `graceMs`, as
   * the Kubernetes SPDY library's Close waits: a client that is still
   * reading its last frames is not cut off. The client closing first ends it
   * at once.
   */
  close(graceMs = CLOSE_GRACE_MS): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.send(goAway(this.lastStreamId));
    const end = () => {
      clearTimeout(timer);
      void this.outbound.then(() => {
        this.socket.end();
        this.destroy();
      });
    };
    const timer = setTimeout(end, graceMs);
    timer.unref();
    if (this.streams.size === 0) end();
    else this.once('idle', end);
  }

  /** Ends everything now. Idempotent. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.close();
    this.headers.close();
    this.socket.destroy();
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.closed) return;
    if (!frame.control) {
      const stream = this.streams.get(frame.streamId);
      if (!stream) return;
      // The session's window reopens at once; the stream's as its consumer takes the bytes (SpdyStream.receive).
      if (frame.data.length) this.send(windowUpdate(0, frame.data.length));
      stream.receive(frame.data, (frame.flags & FLAG_FIN) !== 0);
      return;
    }
    const p = frame.payload;
    switch (frame.type as FrameType) {
      case FrameType.SynStream: {
        if (p.length < 10) throw new Error('short SYN_STREAM');
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.headers.decode(p.subarray(10));
        // Client streams have odd ids. SPDY wants each above the last, but spdy-transport's client sends them out of order: only a reused one is refused.
        if (id % 2 === 0 || this.streams.has(id) || id === 0) {
          this.send(rstStream(id, RST_PROTOCOL_ERROR));
          return;
        }
        this.lastStreamId = Math.max(this.lastStreamId, id);
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        const idBytes = Buffer.alloc(4);
        idBytes.writeUInt32BE(id);
        this.send(
          this.headers
            .encode({ ':status': '200', ':version': 'HTTP/1.1' })
            .then((block) => controlFrame(FrameType.SynReply, 0, Buffer.concat([idBytes, block]))),
        );
        this.onStream(stream);
        if (frame.flags & FLAG_FIN) stream.receive(Buffer.alloc(0), true);
        return;
      }
      case FrameType.SynReply:
      case FrameType.Headers:
        // Keeps the shared inflate context in step; neither carries anything we use.
        if (p.length >= 4) await this.headers.decode(p.subarray(4));
        return;
      case FrameType.RstStream:
        if (p.length >= 4) this.streams.get(p.readUInt32BE(0) & 0x7fffffff)?.close();
        return;
      case FrameType.Ping:
        if (p.length >= 4 && p.readUInt32BE(0) % 2 === 1) this.send(ping(p.readUInt32BE(0)));
        return;
      case FrameType.GoAway:
        this.destroy();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and anything unknown: nothing to do (see the header comment).
        return;
    }
  }
}
