// The part of npm spdy-transport (untyped) the tests' SPDY client uses: a client connection over an upgraded socket.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';
  import type { Socket } from 'node:net';
  import type { EventEmitter } from 'node:events';
  export interface SpdyClientStream extends Duplex {
    readonly id: number;
  }
  export interface SpdyConnection extends EventEmitter {
    start(version: number): void;
    request(
      options: { method: string; path: string; host: string; headers: Record<string, string> },
      callback?: (err: Error | null, stream: SpdyClientStream) => void,
    ): SpdyClientStream;
    end(callback?: () => void): void;
  }
  export const connection: { create(socket: Socket | Duplex, options: { protocol: 'spdy'; isServer: boolean }): SpdyConnection };
}
