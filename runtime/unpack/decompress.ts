/**
 * Layer decompression chosen by media type: gzip (node:zlib, in the thread
 * pool), zstd (node:zlib where the runtime has it — Node ≥ 22.15 — else the
 * pure-JS `fzstd`, fed one zstd block at a time), or none. Unknown media types
 * are refused with InvalidArgument; a stream that does not decompress is
 * InvalidArgument too (the bytes were digest-checked, so the layer itself is
 * malformed).
 */
import { pipeline, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress as FzstdDecompress } from 'fzstd';
import { invalidArgument, isGantryError } from '../errdefs/errdefs';

export type Compression = 'none' | 'gzip' | 'zstd';

const COMPRESSION_BY_MEDIA_TYPE: Readonly<Record<string, Compression>> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

/** The compression of a layer media type; InvalidArgument for anything that is not a known layer type. */
export function compressionOf(mediaType: string): Compression {
  const c = COMPRESSION_BY_MEDIA_TYPE[mediaType];
  if (c === undefined) throw invalidArgument(`unsupported layer media type ${JSON.stringify(mediaType)}`);
  return c;
}

/** Output chunk size for zlib: fewer, larger chunks mean less per-chunk work downstream. */
const ZLIB_CHUNK = 256 * 1024;

/**
 * The uncompressed bytes of `layer`. Errors of the source stream pass
 * through unchanged; decompression errors become InvalidArgument.
 */
export function decompress(layer: Readable, compression: Compression): AsyncIterable<Buffer> {
  switch (compression) {
    case 'none':
      return layer;
    case 'gzip':
      return wrapErrors(viaZlib(layer, zlib.createGunzip({ chunkSize: ZLIB_CHUNK })), 'gzip');
    case 'zstd': {
      const native = (zlib as unknown as { createZstdDecompress?: (o: zlib.ZlibOptions) => zlib.Gunzip }).createZstdDecompress;
      if (typeof native === 'function') return wrapErrors(viaZlib(layer, native({ chunkSize: ZLIB_CHUNK })), 'zstd');
      return wrapErrors(zstdBlocks(layer), 'zstd');
    }
  }
}

function viaZlib(layer: Readable, transform: NodeJS.ReadWriteStream): AsyncIterable<Buffer> {
  // pipeline destroys both on an error of either; the error surfaces in the iteration.
  return pipeline(layer, transform, () => undefined) as unknown as AsyncIterable<Buffer>;
}

async function* wrapErrors(source: AsyncIterable<Buffer>, what: string): AsyncIterable<Buffer> {
  try {
    yield* source;
  } catch (e) {
    if (isGantryError(e) || (e as { code?: unknown }).code === 'ABORT_ERR' || (e as Error).name === 'AbortError') throw e;
    // zlib errors carry a Z_* code or an errno; anything else came from the source stream.
    const code = (e as { code?: unknown }).code;
    if (
      (typeof code === 'string' && code.startsWith('Z_')) ||
      (e as { errno?: unknown }).errno !== undefined ||
      (e as { zstd?: boolean }).zstd
    ) {
      throw invalidArgument(`layer is not valid ${what}: ${(e as Error).message}`, e);
    }
    throw e;
  }
}

// ---- zstd in pure JS ----

/**
 * Largest zstd window accepted (zstd's own default decoder limit, 2^27): the
 * decoder allocates the window up front, so a hostile frame header could
 * otherwise ask for 2 GiB.
 */
export const ZSTD_MAX_WINDOW = 1 << 27;

/**
 * Feeds fzstd exactly one zstd block (at most 128 KiB of output; 2 MiB for
 * a malformed RLE block) at a time, so memory stays bounded and backpressure
 * holds even for a stream made of tiny RLE blocks that expand a thousandfold.
 * The framing walk (frame headers, block headers, checksums, skippable
 * frames) also refuses oversized windows before fzstd allocates them.
 */
export async function* zstdBlocks(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let out: Buffer[] = [];
  const decoder = new FzstdDecompress((data) => {
    if (data.length > 0) out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  const framer = new ZstdFramer();
  const run = (unit: Buffer, final: boolean): Buffer[] => {
    try {
      decoder.push(unit, final);
    } catch (e) {
      throw zstdError((e as Error).message, e);
    }
    const produced = out;
    out = [];
    return produced;
  };
  for await (const chunk of source) {
    for (const unit of framer.units(chunk)) {
      for (const piece of run(unit, false)) yield piece;
    }
  }
  if (!framer.atFrameBoundary()) throw zstdError('unexpected end of data');
  for (const piece of run(Buffer.alloc(0), true)) yield piece;
}

function zstdError(message: string, cause?: unknown): Error {
  const e = new Error(message, { cause });
  (e as { zstd?: boolean }).zstd = true;
  return e;
}

type FramerState = 'magic' | 'skippableSize' | 'frameHeader' | 'blockHeader' | 'skip';

/**
 * Walks the zstd framing (RFC 8878 §3.1) without decoding: frame headers
 * (checking the window size), block headers, block payloads, checksums and
 * skippable frames. `units` cuts the input so that each unit ends where a
 * block, checksum or skippable frame ends.
 */
export class ZstdFramer {
  private state: FramerState = 'magic';
  private header = Buffer.alloc(0);
  private skipLeft = 0;
  private afterSkip: 'magic' | 'blockHeader' = 'magic';
  private checksum = false;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private sawFrame = false;

  /** True when the input so far ends exactly after a complete frame. */
  atFrameBoundary(): boolean {
    return this.state === 'magic' && this.header.length === 0 && this.sawFrame;
  }

  *units(chunk: Buffer): Iterable<Buffer> {
    let pos = 0;
    for (;;) {
      if (this.state === 'skip') {
        const n = Math.min(this.skipLeft, chunk.length - pos);
        this.take(chunk.subarray(pos, pos + n));
        pos += n;
        this.skipLeft -= n;
        if (this.skipLeft > 0) return;
        this.state = this.afterSkip;
        yield this.flush();
        continue;
      }
      if (pos >= chunk.length) return;
      const need = this.headerNeed();
      const n = Math.min(need - this.header.length, chunk.length - pos);
      this.header = Buffer.concat([this.header, chunk.subarray(pos, pos + n)]);
      this.take(chunk.subarray(pos, pos + n));
      pos += n;
      if (this.header.length >= this.headerNeed()) this.parseHeader();
    }
  }

  /** Header bytes the current state needs (a frame header's size is known from its first byte). */
  private headerNeed(): number {
    if (this.state === 'magic' || this.state === 'skippableSize') return 4;
    if (this.state === 'blockHeader') return 3;
    if (this.header.length < 1) return 1;
    const fhd = this.header[0];
    const singleSegment = (fhd >> 5) & 1;
    return 1 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3] + [singleSegment, 2, 4, 8][fhd >> 6];
  }

  private parseHeader(): void {
    const h = this.header;
    this.header = Buffer.alloc(0);
    switch (this.state) {
      case 'magic': {
        const magic = h.readUInt32LE(0);
        this.sawFrame = true;
        if (magic === 0xfd2fb528) this.state = 'frameHeader';
        else if ((magic & 0xfffffff0) === 0x184d2a50) this.state = 'skippableSize';
        else throw zstdError('not a zstd frame (bad magic number)');
        return;
      }
      case 'skippableSize':
        return this.skip(h.readUInt32LE(0), 'magic');
      case 'frameHeader': {
        const fhd = h[0];
        if (fhd & 0x08) throw zstdError('reserved frame header bit set');
        const singleSegment = (fhd >> 5) & 1;
        const dictBytes = [0, 1, 2, 4][fhd & 3];
        let window: number;
        if (singleSegment) {
          // No window descriptor: the window is the whole frame content size.
          const at = 1 + dictBytes;
          const fcsBytes = [1, 2, 4, 8][fhd >> 6];
          window = 0;
          for (let i = fcsBytes - 1; i >= 0; i--) window = window * 256 + h[at + i];
          if (fcsBytes === 2) window += 256;
        } else {
          const wd = h[1];
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        }
        if (window > ZSTD_MAX_WINDOW) throw zstdError(`window of ${window} bytes exceeds the limit of ${ZSTD_MAX_WINDOW}`);
        this.checksum = ((fhd >> 2) & 1) === 1;
        this.state = 'blockHeader';
        return;
      }
      case 'blockHeader': {
        const b = h[0] | (h[1] << 8) | (h[2] << 16);
        const last = (b & 1) === 1;
        const type = (b >> 1) & 3;
        if (type === 3) throw zstdError('reserved block type');
        // An RLE block carries one byte; raw and compressed blocks carry Block_Size bytes.
        const payload = type === 1 ? 1 : b >>> 3;
        return this.skip(payload + (last && this.checksum ? 4 : 0), last ? 'magic' : 'blockHeader');
      }
    }
  }

  private skip(bytes: number, then: 'magic' | 'blockHeader'): void {
    this.state = 'skip';
    this.skipLeft = bytes;
    this.afterSkip = then;
  }

  private take(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingLength += bytes.length;
  }

  private flush(): Buffer {
    const unit = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingLength);
    this.pending = [];
    this.pendingLength = 0;
    return unit;
  }
}
