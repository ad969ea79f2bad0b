/**
 * The Kubernetes streaming protocols' small parts (docs/cri.md,
 * "Streaming"): subprotocol names and their negotiation, the v4 error
 * stream's Status, TTY resize messages, and the WebSocket channel framing
 * (one leading byte names the channel; v5 adds the close signal).
 */

/** Exec/attach subprotocols over SPDY, best first (`X-Stream-Protocol-Version`). */
export const SPDY_COMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
/**
 * Exec/attach subprotocols over WebSocket (`Sec-WebSocket-Protocol`), as the
 * kubelet's: binary channels, and their base64 twins (text messages).
 */
export const WS_COMMAND_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
] as const;
export const SPDY_PORTFORWARD_PROTOCOLS = ['portforward.k8s.io'] as const;
/**
 * SPDY/3.1 inside WebSocket binary messages, as client-go's tunnelling
 * dialer (kubectl ≥ 1.30 port-forward) offers it. `/` is not allowed in an
 * RFC 6455 subprotocol token, but that is the name on the wire.
 */
export const SPDY_TUNNEL_PORTFORWARD = 'SPDY/3.1+portforward.k8s.io';
/**
 * The kubelet's WebSocket port-forward answers the channel protocol (as
 * @kubernetes/client-node asks), its base64 twin and portforward.k8s.io;
 * the SPDY tunnel is served on the same URL.
 */
export const WS_PORTFORWARD_PROTOCOLS = [
  'portforward.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  SPDY_TUNNEL_PORTFORWARD,
] as const;

/** A base64 subprotocol: text messages, the channel an ASCII digit, the payload base64 (the kubelet's wsstream). */
export function isBase64Protocol(protocol: string): boolean {
  return /(^|\.)base64\./.test(protocol);
}

/** WebSocket channels of exec/attach. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/**
 * The first of the client's protocols (in its order, as the kubelet
 * picks) that the server speaks; undefined when none. `offered` is the
 * header's value(s): comma-separated and/or repeated.
 */
export function negotiate(offered: string | readonly string[] | undefined, supported: readonly string[]): string | undefined {
  const list = (Array.isArray(offered) ? offered : [offered ?? ''])
    .flatMap((v: string) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  return list.find((p) => supported.includes(p));
}

/** The subprotocol version number: v4 → 4, `channel.k8s.io` → 1. */
export function versionOf(protocol: string): number {
  const m = /^v(\d+)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

/** How a remote command ended. */
export type CommandOutcome = { readonly exitCode: number } | { readonly error: string };

/** The v4+ error stream's metav1.Status: Success, NonZeroExitCode with an ExitCode cause, or the failure. */
export function statusJson(outcome: CommandOutcome): string {
  if ('exitCode' in outcome && outcome.exitCode === 0) return JSON.stringify({ metadata: {}, status: 'Success' });
  if ('exitCode' in outcome) {
    return JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: exit status ${outcome.exitCode}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
    });
  }
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: outcome.error,
    reason: 'InternalError',
    details: { causes: [{ message: outcome.error }] },
    code: 500,
  });
}

/** What the v1-v3 error stream carries: nothing on success, else a line of text. */
export function legacyError(outcome: CommandOutcome): string | undefined {
  if ('exitCode' in outcome)
    return outcome.exitCode === 0 ? undefined : `command terminated with non-zero exit code: exit status ${outcome.exitCode}`;
  return outcome.error;
}

export interface TerminalSize {
  readonly rows: number;
  readonly cols: number;
}

/** The resize stream carries `{"Width":W,"Height":H}` objects, one per line over SPDY, one per message over WebSocket. */
export class ResizeDecoder {
  private pending = '';

  push(chunk: Buffer | string): TerminalSize[] {
    this.pending += chunk.toString();
    const sizes: TerminalSize[] = [];
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const size = parseResize(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
      if (size) sizes.push(size);
    }
    // A message without a newline (WebSocket clients send one object per message).
    const last = parseResize(this.pending);
    if (last) {
      sizes.push(last);
      this.pending = '';
    }
    if (this.pending.length > 4096) this.pending = '';
    return sizes;
  }
}

function parseResize(text: string): TerminalSize | undefined {
  if (!text.trim()) return undefined;
  try {
    const v = JSON.parse(text) as { Width?: unknown; Height?: unknown };
    const cols = Number(v.Width);
    const rows = Number(v.Height);
    if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols <= 0 || rows <= 0 || cols > 0xffff || rows > 0xffff) return undefined;
    return { rows, cols };
  } catch {
    return undefined;
  }
}

/** A WebSocket message on `channel`. */
export function channelMessage(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([Buffer.of(channel), body]);
}

/** A client's WebSocket message: its channel and bytes; undefined for an empty message. */
export function parseChannelMessage(message: Buffer): { channel: number; data: Buffer } | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0], data: message.subarray(1) };
}

/** A base64 protocol's message on `channel` (0-9): the digit, then the payload in standard base64. */
export function base64ChannelMessage(channel: number, data: Buffer | string): string {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return String.fromCharCode(0x30 + channel) + body.toString('base64');
}

/** A client's base64 message: the digit's channel and the decoded bytes; undefined when empty or not a digit. */
export function parseBase64ChannelMessage(message: Buffer | string): { channel: number; data: Buffer } | undefined {
  const text = message.toString();
  if (!text.length) return undefined;
  const channel = text.charCodeAt(0) - 0x30;
  if (channel < 0 || channel > 9) return undefined;
  return { channel, data: Buffer.from(text.slice(1), 'base64') };
}

/** Port-forward over WebSocket: each channel's first server message is its port, two bytes little-endian. */
export function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/** The binary protocols' first message of a port-forward channel. */
export function portPrefix(channel: number, port: number): Buffer {
  return channelMessage(channel, portBytes(port));
}
