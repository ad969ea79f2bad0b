import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { compressionOf, decompress, zstdBlocks, ZstdFramer, ZSTD_MAX_WINDOW } from '../../../runtime/unpack/decompress';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { zstd } from '../../helpers/tarBuilder';

async function collect(source: AsyncIterable<Buffer>): Promise<{ data: Buffer; chunks: number[] }> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(c);
  return { data: Buffer.concat(parts), chunks: parts.map((p) => p.length) };
}

/** `data` as a stream of pieces of random sizes (1 byte up to `max`). */
function pieces(data: Buffer, max = 5000): Readable {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length;) {
    const n = 1 + Math.floor(Math.random() * max);
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return Readable.from(out);
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const ZSTD_MAGIC = u32(0xfd2fb528);
/** A zstd block header: last flag, type (0 raw, 1 RLE, 2 compressed), size. */
const blockHeader = (last: boolean, type: number, size: number) => {
  const v = (last ? 1 : 0) | (type << 1) | (size << 3);
  return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff]);
};

describe('unpack/decompress', () => {
  it('maps every layer media type to its compression and refuses the rest', () => {
    assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar'), 'none');
    assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
    assert.equal(compressionOf('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
    assert.equal(compressionOf('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'), 'gzip');
    assert.equal(compressionOf('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
    assert.equal(compressionOf('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), 'gzip');
    for (const bad of ['application/vnd.oci.image.layer.v1.tar+bzip2', 'application/json', '']) {
      assert.throws(
        () => compressionOf(bad),
        (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && e.message.includes('unsupported layer media type'),
      );
    }
  });

  it('gunzips, also concatenated gzip members', async () => {
    const a = randomBytes(100_000);
    const b = Buffer.alloc(300_000, 'b');
    const { data } = await collect(decompress(pieces(Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)])), 'gzip'));
    assert.ok(data.equals(Buffer.concat([a, b])));
  });

  it('decodes zstd in pure JS, in any chunking, with checksums, several frames and skippable frames', async () => {
    const a = Buffer.concat([randomBytes(200_000), Buffer.alloc(500_000, 'z'), randomBytes(1000)]);
    const b = Buffer.from('second frame');
    const skippable = Buffer.concat([u32(0x184d2a53), u32(5), Buffer.from('skip!')]);
    const input = Buffer.concat([zstd(a, 19), skippable, zstd(b, 1)]);
    for (let i = 0; i < 3; i++) {
      const { data } = await collect(zstdBlocks(pieces(input, 1 + i * 3000)));
      assert.ok(data.equals(Buffer.concat([a, b])));
    }
  });

  it('cuts zstd input at block boundaries', () => {
    const framer = new ZstdFramer();
    const frame = Buffer.concat([
      ZSTD_MAGIC,
      Buffer.from([0x00, 0x00]),
      blockHeader(false, 0, 3),
      Buffer.from('abc'),
      blockHeader(true, 1, 10),
      Buffer.from('x'),
    ]);
    const units = [...framer.units(frame)];
    assert.deepEqual(
      units.map((u) => u.length),
      [4 + 2 + 3 + 3, 3 + 1],
    );
    assert.ok(framer.atFrameBoundary());
  });

  it('refuses zstd windows beyond the limit before allocating them', async () => {
    // window descriptor exponent 21 → 2 GiB window
    const big = Buffer.concat([ZSTD_MAGIC, Buffer.from([0x00, 21 << 3]), blockHeader(true, 0, 1), Buffer.from('x')]);
    // single segment frame claiming 2^40 bytes of content (8-byte content size)
    const fcs = Buffer.alloc(8);
    fcs.writeBigUInt64LE(1n << 40n);
    const single = Buffer.concat([ZSTD_MAGIC, Buffer.from([0xe0]), fcs, blockHeader(true, 0, 1), Buffer.from('x')]);
    for (const input of [big, single]) {
      await assert.rejects(
        collect(decompress(Readable.from([input]), 'zstd')),
        (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && /exceeds the limit/.test(e.message),
      );
    }
    assert.equal(ZSTD_MAX_WINDOW, 2 ** 27);
  });

  it('expands a stream of tiny RLE blocks block by block (bounded output per step)', async () => {
    // 800 RLE blocks of 128 KiB each: 100 MiB from 3 KiB of input.
    const blocks: Buffer[] = [];
    for (let i = 0; i < 800; i++) blocks.push(blockHeader(i === 799, 1, 128 * 1024), Buffer.from([i & 0xff]));
    const frame = Buffer.concat([ZSTD_MAGIC, Buffer.from([0x00, 7 << 3]), ...blocks]);
    let total = 0;
    let biggest = 0;
    for await (const c of zstdBlocks(Readable.from([frame]))) {
      total += c.length;
      biggest = Math.max(biggest, c.length);
    }
    assert.equal(total, 800 * 128 * 1024);
    assert.equal(biggest, 128 * 1024);
  });

  it('reports truncated and corrupt zstd as InvalidArgument', async () => {
    const good = zstd(randomBytes(50_000));
    const bad = [
      good.subarray(0, good.length - 5),
      Buffer.from('not zstd at all'),
      Buffer.concat([ZSTD_MAGIC, Buffer.from([0x08])]),
      Buffer.alloc(0),
    ];
    for (const input of bad) {
      await assert.rejects(
        collect(decompress(Readable.from([input]), 'zstd')),
        (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && /not valid zstd/.test(e.message),
      );
    }
  });

  it('passes the source stream through untouched for uncompressed layers', async () => {
    const src = Readable.from([Buffer.from('abc')]);
    assert.equal(decompress(src, 'none'), src);
  });
});
