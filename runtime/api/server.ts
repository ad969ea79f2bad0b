/**
 * The one place gRPC handlers are adapted: every handler is written as an
 * async function of (ctx, request); these wrappers give it a Ctx whose signal
 * aborts when the client cancels or disconnects, and translate whatever it
 * throws into a status with the right code (errdefs/grpc.ts) — grpc-js would
 * otherwise send UNKNOWN for everything.
 */
import { once } from 'node:events';
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import type { Ctx } from '../context';
import { kindOf } from '../errdefs/errdefs';
import { toStatus } from '../errdefs/grpc';
import type { Logger } from '../util/log';

export type UnaryHandler<Req, Res> = (ctx: Ctx, request: Req) => Promise<Res>;

/** `send` resolves once the message is accepted, waiting for 'drain' when the client reads slowly. */
export type ServerStreamHandler<Req, Res> = (ctx: Ctx, request: Req, send: (message: Res) => Promise<void>) => Promise<void>;

/** `incoming` yields the client's messages and ends when the client half-closes; one response after. */
export type ClientStreamHandler<Req, Res> = (ctx: Ctx, incoming: AsyncIterable<Req>) => Promise<Res>;

/** `incoming` yields the client's messages and ends when the client half-closes or the call ends. */
export type BidiStreamHandler<Req, Res> = (ctx: Ctx, incoming: AsyncIterable<Req>, send: (message: Res) => Promise<void>) => Promise<void>;

function callContext(
  call:
    | ServerUnaryCall<unknown, unknown>
    | ServerWritableStream<unknown, unknown>
    | ServerDuplexStream<unknown, unknown>
    | ServerReadableStream<unknown, unknown>,
): Ctx {
  const controller = new AbortController();
  if (call.cancelled) controller.abort();
  else (call as ServerUnaryCall<unknown, unknown>).once('cancelled', () => controller.abort());
  return { signal: controller.signal };
}

export class HandlerAdapter {
  constructor(private readonly log: Logger) {}

  unary<Req, Res>(method: string, handler: UnaryHandler<Req, Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      handler(callContext(call), call.request).then(
        (response) => callback(null, response),
        (error: unknown) => {
          this.logFailure(method, error);
          callback(toStatus(error));
        },
      );
    };
  }

  clientStream<Req, Res>(method: string, handler: ClientStreamHandler<Req, Res>): handleClientStreamingCall<Req, Res> {
    return (call, callback) => {
      handler(callContext(call), call as AsyncIterable<Req>).then(
        (response) => callback(null, response),
        (error: unknown) => {
          this.logFailure(method, error);
          callback(toStatus(error));
        },
      );
    };
  }

  serverStream<Req, Res>(method: string, handler: ServerStreamHandler<Req, Res>): handleServerStreamingCall<Req, Res> {
    return (call) => this.stream(method, call, (ctx, send) => handler(ctx, call.request, send));
  }

  bidiStream<Req, Res>(method: string, handler: BidiStreamHandler<Req, Res>): handleBidiStreamingCall<Req, Res> {
    return (call) => this.stream(method, call, (ctx, send) => handler(ctx, call as AsyncIterable<Req>, send));
  }

  /** The response side of a streaming call, for both shapes: sends with backpressure, ends or fails the call. */
  private stream<Res>(
    method: string,
    call: ServerWritableStream<unknown, Res> | ServerDuplexStream<unknown, Res>,
    run: (ctx: Ctx, send: (message: Res) => Promise<void>) => Promise<void>,
  ): void {
    const ctx = callContext(call);
    const send = async (message: Res) => {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (!call.write(message)) {
        await once(call, 'drain', { signal: ctx.signal });
      }
    };
    run(ctx, send).then(
      () => call.end(),
      (error: unknown) => {
        if (ctx.signal.aborted) return; // the client went away; nobody to tell
        this.logFailure(method, error);
        call.emit('error', toStatus(error));
      },
    );
  }

  private logFailure(method: string, error: unknown): void {
    const kind = kindOf(error);
    // Unknown/Internal errors are our bugs or the host's trouble; the rest are the caller's.
    const level = kind === 'Unknown' || kind === 'Internal' ? 'error' : 'debug';
    this.log[level]('request failed', { method, kind, error });
  }
}
