/**
 * SPDY/3.1 framing, as the Kubernetes streaming protocols use it (the
 * kubelet's and kubectl's SPDY library, docs/cri.md "Streaming"): control
 * frames (SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY,
 * HEADERS, WINDOW_UPDATE) and data frames, and header blocks compressed
 * with one zlib context per direction, primed with SPDY/3's dictionary.
 *
 * Our own framing rather than npm spdy-transport's connection: its parser
 * refuses a SYN_STREAM without `:method` and `:path`, and Kubernetes
 * clients' streams carry only their own headers (`streamType`, `port`,
 * `requestID`). Its dictionary is the protocol's and is used here.
 */
import * as zlib from 'node:zlib';
import dictionaries from 'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary';

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;

export enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

/** RST_STREAM status codes used here. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;

/** A frame as read: control frames keep their raw payload (header blocks are inflated by the session, in order). */
export type Frame =
  | { readonly control: true; readonly type: number; readonly flags: number; readonly payload: Buffer }
  | { readonly control: false; readonly streamId: number; readonly flags: number; readonly data: Buffer };

/** A peer may send frames up to 2^24-1 bytes; larger is a broken stream, not a frame to buffer. */
const MAX_FRAME = 0xffffff;

/** Splits a byte stream into frames; feed it chunks as they come. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUIntBE(5, 3);
      if (length > MAX_FRAME) throw new Error('SPDY frame too large');
      if (this.buffered.length < 8 + length) break;
      const head = this.buffered.subarray(0, 8);
      const body = this.buffered.subarray(8, 8 + length);
      this.buffered = this.buffered.subarray(8 + length);
      const flags = head[4];
      if (head[0] & 0x80) {
        const version = head.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version}`);
        frames.push({ control: true, type: head.readUInt16BE(2), flags, payload: Buffer.from(body) });
      } else {
        frames.push({ control: false, streamId: head.readUInt32BE(0) & 0x7fffffff, flags, data: Buffer.from(body) });
      }
    }
    return frames;
  }
}

export function controlFrame(type: FrameType, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head[4] = flags;
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

const u32 = (...values: number[]) => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
};

export const rstStream = (streamId: number, status: number) => controlFrame(FrameType.RstStream, 0, u32(streamId, status));
export const windowUpdate = (streamId: number, delta: number) => controlFrame(FrameType.WindowUpdate, 0, u32(streamId, delta));
export const ping = (id: number) => controlFrame(FrameType.Ping, 0, u32(id));
export const goAway = (lastGoodStreamId: number, status = 0) => controlFrame(FrameType.GoAway, 0, u32(lastGoodStreamId, status));

/** Header names are lower-case on the wire; a value may hold several, NUL-separated (kept joined here). */
export type Headers = Readonly<Record<string, string>>;

export function encodeHeaderBlock(headers: Headers): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 0;
  const take = () => {
    if (at + 4 > block.length) throw new Error('SPDY header block truncated');
    const len = block.readUInt32BE(at);
    at += 4;
    if (at + len > block.length) throw new Error('SPDY header block truncated');
    const s = block.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  if (block.length < 4) throw new Error('SPDY header block truncated');
  const count = block.readUInt32BE(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    headers[name] = take();
  }
  return headers;
}

/** One direction's header compression: a zlib stream that lives as long as the connection, flushed after each block. */
class HeaderZlib {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly stream: zlib.Inflate | zlib.Deflate) {
    stream.on('error', () => undefined); // reported through the call that fed it
  }

  /** Runs the blocks one after another, in call order (the context is shared). */
  process(input: Buffer): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        const out: Buffer[] = [];
        const onData = (b: Buffer) => out.push(b);
        const onError = (e: Error) => {
          this.stream.off('data', onData);
          reject(e);
        };
        this.stream.on('data', onData);
        this.stream.once('error', onError);
        this.stream.write(input);
        this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.stream.off('data', onData);
          this.stream.off('error', onError);
          resolve(Buffer.concat(out));
        });
      });
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.stream.close();
  }
}

/** A connection's two header contexts. */
export class HeaderCodec {
  private readonly inflater = new HeaderZlib(zlib.createInflate({ dictionary: dictionaries[3] }));
  private readonly deflater = new HeaderZlib(zlib.createDeflate({ dictionary: dictionaries[3] }));

  async decode(compressed: Buffer): Promise<Record<string, string>> {
    return decodeHeaderBlock(await this.inflater.process(compressed));
  }

  encode(headers: Headers): Promise<Buffer> {
    return this.deflater.process(encodeHeaderBlock(headers));
  }

  close(): void {
    this.inflater.close();
    this.deflater.close();
  }
}
