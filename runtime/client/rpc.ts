/**
 * The two call shapes every namespaced API of RuntimeClient is built from: a
 * unary call with a deadline, and a server stream as an async generator.
 * Both map every failure to a GantryError whose kind is the one the daemon
 * raised (runtime/errdefs/grpc.ts), so no grpc-js error leaves the client.
 */
import {
  Metadata,
  type CallOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromServiceError } from '../errdefs/grpc';

export interface CallOpts {
  signal?: AbortSignal;
  /** Milliseconds until the call fails with DeadlineExceeded. Default 30 s; Infinity = none. */
  timeoutMs?: number;
}

export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

const DEFAULT_TIMEOUT_MS = 30_000;

export function unary<Req, Res>(target: object, method: UnaryMethod<Req, Res>, request: Req, opts: CallOpts = {}): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(fromServiceError(opts.signal.reason));
      return;
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // grpc-js arms a timer for the deadline: past 2^31 ms it would fire at once, so "no deadline" is Infinity.
    const deadline = Number.isFinite(timeoutMs) ? new Date(Date.now() + timeoutMs) : Infinity;
    const call = method.call(target, request, new Metadata(), { deadline }, (error, response) => {
      opts.signal?.removeEventListener('abort', cancel);
      if (error) reject(fromServiceError(error));
      else resolve(response);
    });
    const cancel = () => call.cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });
  });
}

/** Iterates a server stream, mapping failures to GantryErrors; aborting `signal` cancels the call. */
export async function* stream<Res>(call: ClientReadableStream<Res>, signal?: AbortSignal): AsyncGenerator<Res> {
  if (signal?.aborted) {
    call.cancel(); // an 'abort' listener added now would never fire
    return;
  }
  const cancel = () => call.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    for await (const message of call) yield message as Res;
  } catch (e) {
    if (signal?.aborted) return;
    throw fromServiceError(e);
  } finally {
    signal?.removeEventListener('abort', cancel);
    call.cancel();
  }
}

export type ClientStreamMethod<Req, Res> = (
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientWritableStream<Req>;

/**
 * A client stream: writes every message of `messages` (waiting for 'drain'
 * when the daemon reads slowly), half-closes, and resolves with the one
 * response. No deadline by default (an upload lasts as long as it lasts);
 * aborting `signal` cancels the call.
 */
export function clientStream<Req, Res>(
  target: object,
  method: ClientStreamMethod<Req, Res>,
  messages: AsyncIterable<Req>,
  opts: CallOpts = {},
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(fromServiceError(opts.signal.reason));
      return;
    }
    const timeoutMs = opts.timeoutMs ?? Infinity;
    const deadline = Number.isFinite(timeoutMs) ? new Date(Date.now() + timeoutMs) : Infinity;
    let settled = false;
    const call = method.call(target, new Metadata(), { deadline }, (error, response) => {
      settled = true;
      opts.signal?.removeEventListener('abort', cancel);
      if (error) reject(fromServiceError(error));
      else resolve(response);
    });
    const cancel = () => call.cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });
    (async () => {
      for await (const m of messages) {
        if (settled) return; // the daemon already answered (an error): stop reading the source
        if (!call.write(m)) {
          // Whichever comes first; the other listener goes, or one 'close' listener per drain would pile up.
          await new Promise<void>((r) => {
            const done = () => {
              call.off('drain', done);
              call.off('close', done);
              r();
            };
            call.once('drain', done);
            call.once('close', done);
          });
        }
      }
      call.end();
    })().catch((e: unknown) => {
      // The source failed (an unreadable file): cancel the call; the callback reports Cancelled,
      // so report the source's error instead.
      settled = true;
      call.cancel();
      reject(e);
    });
  });
}
