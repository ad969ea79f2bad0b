/**
 * The client side of one PortForward call as a Node Duplex: what is written
 * goes to the container's port, what the container sends is read, and the
 * two directions end on their own as TCP's do (`end()` half-closes the call;
 * the daemon's `eof` ends the readable side). Flow control is the call's:
 * a write completes once grpc-js took the message, and the response stream
 * is paused while the readable side is full.
 *
 * 'connected' is emitted once the daemon has the connection; a refusal
 * (unknown container, not running, nothing listening) destroys the stream
 * with the daemon's GantryError. `destroy()` cancels the call.
 */
import { Duplex } from 'node:stream';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { fromServiceError } from '../errdefs/grpc';
import type { PortForwardRequest, PortForwardResponse } from '../api/gen/gantry/v1/containers';

const CHUNK = 256 * 1024;

export class PortForwardStream extends Duplex {
  private callDone = false;
  private readEnded = false;

  constructor(
    private readonly call: ClientDuplexStream<PortForwardRequest, PortForwardResponse>,
    id: string,
    port: number,
  ) {
    // Not autoDestroy: when both sides ended the call still has to bring the
    // daemon's status (a reset after our last byte fails the call); the call
    // ending closes the stream instead.
    super({ allowHalfOpen: true, autoDestroy: false });
    call.write({ kind: { $case: 'start', value: { id, port } } });
    call.on('data', (message: PortForwardResponse) => {
      const kind = message.kind;
      if (kind?.$case === 'data') {
        if (!this.push(kind.value)) call.pause();
      } else if (kind?.$case === 'eof') this.endReadable();
      else if (kind?.$case === 'connected') this.emit('connected');
    });
    call.on('end', () => this.endReadable());
    call.on('status', () => {
      this.callDone = true;
      if (!this.destroyed && this.readableEnded) this.destroy();
    });
    // Everything read and the call over: the stream is done ('close').
    this.once('end', () => {
      if (this.callDone && !this.destroyed) this.destroy();
    });
    call.on('error', (e) => {
      this.callDone = true;
      if (!this.destroyed) this.destroy(fromServiceError(e));
    });
  }

  private endReadable(): void {
    if (this.readEnded) return;
    this.readEnded = true;
    this.push(null);
  }

  override _read(): void {
    this.call.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.callDone) return callback();
    // One message per CHUNK bytes at most: gantryd takes messages up to 16 MiB, and smaller ones keep memory flat.
    for (let at = 0; at < chunk.length; at += CHUNK) {
      const last = at + CHUNK >= chunk.length;
      this.call.write({ kind: { $case: 'data', value: chunk.subarray(at, at + CHUNK) } }, last ? () => callback() : undefined);
    }
    if (chunk.length === 0) callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.callDone) this.call.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.callDone) this.call.cancel();
    callback(error);
  }
}
