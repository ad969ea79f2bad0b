/**
 * Attach: a live connection to a task's stdio through conmon's attach socket.
 *
 * conmon (started with `--full-attach`) listens on `<bundle>/attach`, an
 * AF_UNIX SOCK_SEQPACKET socket (docs/conmon.md §5; stdin: §7):
 *
 *   gantryd                                   conmon
 *     | connect(<bundle>/attach) ---------------> |   any number of clients
 *     | <------------- [0x02|≤8192 bytes stdout]  |   (no replay of earlier output;
 *     | <------------- [0x03|≤8192 bytes stderr]  |    TTY output is always 0x02)
 *     | [raw input, ≤32767 bytes] --------------> |   → container stdin / pty
 *     | shutdown(SHUT_WR) / close --------------> |   → closes container stdin
 *     | <----------------------------- EOF        |   container exited
 *
 * Lifecycle. `attach()` resolves once connected. Output frames flow into
 * `output` until conmon closes the connection (the container exited) or
 * `close()` is called; `ended` then resolves (it never rejects). Writes are
 * split into packets of at most 32767 bytes, sent in call order; each
 * `write()` resolves once its bytes are in the kernel, so awaiting it is the
 * backpressure.
 *
 * stdin semantics are conmon's, not the caller's: unless conmon runs with
 * `--leave-stdin-open`, the first client that shuts down its write side *or
 * disconnects* (even one that never wrote) closes the container's stdin for
 * everybody. On a TTY closing stdin does nothing the program can see (the
 * pty stays open; send ^D for the line discipline's EOF).
 */
import * as path from 'node:path';
import { describe, failedPrecondition, unavailable, isGantryError } from '../errdefs/errdefs';
import { FrameStream, parseAttachPacket, type OutputFrame } from './frames';
import { connectSeqpacket, type SeqpacketSocket } from './seqpacket';

export interface AttachOptions {
  /** Allow write()/closeStdin(); a read-only session rejects writes. */
  readonly stdin: boolean;
}

export interface AttachSession extends AsyncIterable<OutputFrame> {
  /** Output frames, in arrival order; ends when the connection closes. */
  readonly output: FrameStream;
  /** Resolves when the connection is closed, by conmon (container exit) or by close(). Never rejects. */
  readonly ended: Promise<void>;
  /** Sends input; resolves when it is handed to the kernel. Rejects (FailedPrecondition) after closeStdin/close or when read-only. */
  write(data: Buffer | string): Promise<void>;
  /** Half-closes after pending writes (SHUT_WR): conmon then closes the container's stdin. Idempotent. */
  closeStdin(): Promise<void>;
  /** Disconnects at once; pending writes reject. Idempotent. */
  close(): void;
}

/** conmon reads input in chunks of this size; a larger packet would be truncated [conmon src]. */
export const MAX_INPUT_PACKET = 32767;

/** Attaches to the task whose conmon socket is `<bundle>/attach`. */
export function attach(bundle: string, opts: AttachOptions): Promise<AttachSession> {
  return attachSocket(path.join(bundle, 'attach'), opts, 'attach');
}

/** Attaches to a conmon attach socket by path; `what` prefixes error messages. */
export async function attachSocket(socketPath: string, opts: AttachOptions, what: string): Promise<AttachSession> {
  const socket = await connectSeqpacket(socketPath, what);
  return new Session(socket, opts, what);
}

class Session implements AttachSession {
  readonly output = new FrameStream();
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  private closed = false;
  private inputClosed: boolean;
  private shutdownPromise: Promise<void> | undefined;
  // Writes whose callback has not fired; the addon drops callbacks on close.
  private readonly pending = new Set<(e: Error) => void>();

  constructor(
    private readonly socket: SeqpacketSocket,
    opts: AttachOptions,
    private readonly what: string,
  ) {
    this.inputClosed = !opts.stdin;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    socket.on('data', (packet: Buffer) => {
      const frame = parseAttachPacket(packet);
      if (frame) this.output.pushFrame(frame.stream, frame.data);
    });
    // conmon closed the connection: the container (or exec) is gone.
    socket.on('end', () => this.teardown());
    socket.on('error', (e: Error) => this.teardown(unavailable(`${what}: ${describe(e)}`, e)));
    socket.on('close', () => this.teardown());
  }

  [Symbol.asyncIterator](): AsyncIterator<OutputFrame> {
    return this.output[Symbol.asyncIterator]();
  }

  async write(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.closed) throw failedPrecondition(`${this.what}: connection is closed`);
    if (this.inputClosed) throw failedPrecondition(`${this.what}: stdin is closed`);
    if (buf.length === 0) return;
    const writes: Promise<void>[] = [];
    for (let off = 0; off < buf.length; off += MAX_INPUT_PACKET) {
      const chunk = buf.subarray(off, Math.min(off + MAX_INPUT_PACKET, buf.length));
      writes.push(this.sendPacket(chunk));
    }
    await Promise.all(writes);
  }

  closeStdin(): Promise<void> {
    if (this.shutdownPromise) return this.shutdownPromise;
    if (this.closed || this.inputClosed) return Promise.resolve();
    this.inputClosed = true;
    this.shutdownPromise = new Promise<void>((resolve) => {
      // The addon shuts down once its queue is flushed; on close instead the
      // callback is dropped, and ended settles the wait.
      this.socket.end(() => resolve());
      void this.ended.then(() => resolve());
    });
    return this.shutdownPromise;
  }

  close(): void {
    this.teardown();
  }

  private sendPacket(chunk: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      this.pending.add(fail);
      try {
        this.socket.write(chunk, 0, chunk.length, () => {
          this.pending.delete(fail);
          resolve();
        });
      } catch (e) {
        this.pending.delete(fail);
        reject(unavailable(`${this.what}: write: ${describe(e)}`, e));
      }
    });
  }

  private teardown(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.inputClosed = true;
    this.socket.destroy();
    const failure = err && isGantryError(err) ? err : failedPrecondition(`${this.what}: connection is closed`);
    for (const fail of this.pending) fail(failure);
    this.pending.clear();
    if (err) this.output.destroy(err);
    else this.output.finish();
    this.resolveEnded();
  }
}
