/**
 * The output side of attach and exec sessions: one object-mode Readable of
 * stream-tagged frames, read with `for await` or 'data' events.
 *
 * Backpressure. Sources that can pause (child process pipes) are paused
 * while the stream's buffer is full and resumed when the reader asks for
 * more, so a slow reader slows the process down instead of filling memory.
 * A conmon attach socket cannot be paused (the addon reads as long as data
 * comes), so its frames are only counted: past `maxQueuedFrames` unread
 * frames the stream is destroyed with ResourceExhausted rather than growing
 * without bound.
 *
 * Errors reach readers through the iterator (or 'error' listeners); the
 * stream carries a no-op 'error' listener so that a session nobody reads
 * cannot crash the daemon with an unhandled 'error' event.
 */
import { Readable } from 'node:stream';
import { resourceExhausted } from '../errdefs/errdefs';

export type OutputStreamName = 'stdout' | 'stderr';

export interface OutputFrame {
  readonly stream: OutputStreamName;
  readonly data: Buffer;
}

/** conmon's attach packets start with one byte naming the stream. */
export const ATTACH_STDOUT = 2;
export const ATTACH_STDERR = 3;

// About 64 MiB of 8 KiB conmon packets: far beyond any reader that is keeping up.
const DEFAULT_MAX_QUEUED_FRAMES = 8192;

export interface FrameStreamOptions {
  /** Called when the reader wants more after a push returned false (resume paused sources). */
  readonly onDemand?: () => void;
  /** For unpausable sources: destroy the stream past this many unread frames. */
  readonly maxQueuedFrames?: number;
}

export class FrameStream extends Readable {
  private readonly onDemand: (() => void) | undefined;
  private readonly maxQueued: number;
  private pushedEnd = false;

  constructor(opts: FrameStreamOptions = {}) {
    super({ objectMode: true, highWaterMark: 64 });
    this.onDemand = opts.onDemand;
    this.maxQueued = opts.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES;
    this.on('error', () => undefined);
  }

  override _read(): void {
    this.onDemand?.();
  }

  /** Queues a frame; false means "pause the source until onDemand". Empty data is dropped. */
  pushFrame(stream: OutputStreamName, data: Buffer): boolean {
    if (this.destroyed || this.pushedEnd) return false;
    if (data.length === 0) return true;
    if (this.readableLength >= this.maxQueued) {
      this.destroy(resourceExhausted(`output reader is not keeping up: ${this.readableLength} frames unread`));
      return false;
    }
    return this.push({ stream, data } satisfies OutputFrame);
  }

  /** No more frames; readers see the end after the queued ones. Idempotent. */
  finish(): void {
    if (!this.destroyed && !this.pushedEnd) {
      this.pushedEnd = true;
      this.push(null);
    }
  }
}

/** Splits a conmon attach packet into a frame; undefined for stream ids other than stdout/stderr. */
export function parseAttachPacket(packet: Buffer): OutputFrame | undefined {
  if (packet.length < 1) return undefined;
  const id = packet[0];
  const stream: OutputStreamName | undefined = id === ATTACH_STDOUT ? 'stdout' : id === ATTACH_STDERR ? 'stderr' : undefined;
  if (!stream) return undefined;
  return { stream, data: packet.subarray(1) };
}
