/**
 * The CRI streaming server's door (docs/cri.md, "Streaming"): what the CRI
 * handlers hand it (a checked Exec, Attach or PortForward request, for a
 * one-time URL), and what it runs them on (StreamingRuntime: the same exec,
 * attach and port-forward paths as the rest of gantryd).
 *
 * Terms
 * - *URL*: `http://ADDRESS:PORT/{exec,attach,portforward}/TOKEN`; the token
 *   is taken by its first request and expires after a minute (tokens.ts).
 * - *Protocols*: SPDY/3.1 (an HTTP upgrade, `X-Stream-Protocol-Version`) or
 *   WebSocket (`Sec-WebSocket-Protocol`), see protocol.ts.
 */
import type { Ctx } from '../../context';
import type { ForwardConnection } from '../../network/forward/dial';
import type { OutputFrame } from '../../tasks/frames';

export interface ExecStreamRequest {
  readonly kind: 'exec';
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

export interface AttachStreamRequest {
  readonly kind: 'attach';
  readonly containerId: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

export interface PortForwardStreamRequest {
  readonly kind: 'portforward';
  readonly podSandboxId: string;
  /** The ports the request named (a WebSocket client may name its own in the URL's query). */
  readonly ports: readonly number[];
}

export type StreamRequest = ExecStreamRequest | AttachStreamRequest | PortForwardStreamRequest;
export type CommandRequest = ExecStreamRequest | AttachStreamRequest;

/** A running exec as the streaming server drives it (runtime/tasks/exec's ExecSession has these). */
export interface StreamedProcess {
  readonly output: AsyncIterable<OutputFrame>;
  write(data: Buffer): Promise<void>;
  closeStdin(): Promise<void>;
  resize(rows: number, cols: number): Promise<void> | void;
  kill(signal?: NodeJS.Signals | number): void;
  wait(): Promise<number>;
}

/** An attach to a container's stdio (runtime/containers/io.ts's Attached has these). */
export interface StreamedAttach {
  readonly output: AsyncIterable<OutputFrame>;
  write(data: Buffer): Promise<void>;
  resize(rows: number, cols: number): void;
  closeStdin(): Promise<void>;
  close(): void;
}

export interface StreamingRuntime {
  exec(ctx: Ctx, containerId: string, opts: { args: readonly string[]; tty: boolean; stdin: boolean }): Promise<StreamedProcess>;
  attach(ctx: Ctx, containerId: string, opts: { stdin: boolean }): Promise<StreamedAttach>;
  /** A TCP connection to `port` on the pod's localhost (IPv4, else IPv6). */
  dial(ctx: Ctx, podSandboxId: string, port: number): Promise<ForwardConnection>;
}

/** The server's settings (gantryd's `--cri-stream-address` and `--cri-stream-port`). */
export interface StreamingSettings {
  /** Default 127.0.0.1, as containerd's stream_server_address. */
  readonly address?: string;
  /** Default 0: an ephemeral port, as containerd's stream_server_port. */
  readonly port?: number;
}

/** What the CRI handlers see of the server. */
export interface StreamUrls {
  /** A one-time URL for the checked request. */
  urlFor(request: StreamRequest): string;
}
