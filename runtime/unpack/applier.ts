/**
 * TarApplier: the Applier of unpack.ts, streaming a layer through
 * decompression, a digest and tar-stream into the directory behind an
 * active snapshot's mounts, in one pass.
 *
 *   layer ─▶ gunzip | zstd | — ─▶ sha256 ─▶ tar-stream ─▶ LayerWriter ─▶ upperdir / bind source
 *
 * Errors: InvalidArgument for mounts it cannot write to, unknown media types,
 * malformed compression or tar, and hostile entries (named in the message);
 * DataLoss when the digest of the tar is not the DiffID; ResourceExhausted
 * when the layer would eat into the free-space reserve (`reserve`: checked
 * before each large file, from its header, and every few MiB of the
 * uncompressed stream, so a compression bomb stops there); Cancelled when
 * ctx.signal aborts. Whatever fails, apply returns only after every write and
 * helper process it started has finished — the caller can remove the active
 * snapshot right away. A failed apply leaves a half-written target (nothing
 * outside it); the caller discards it.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { Ctx } from '../context';
import { dataLoss, GantryError, invalidArgument, isGantryError } from '../errdefs/errdefs';
import { isOverlay, optionValue, type Mount } from '../mount/mount';
import { compressionOf, decompress } from './decompress';
import type { Applier, ApplyOptions, ApplyResult } from './unpack';
import { LayerWriter, type EntryData, type EntryHeader } from './writer';
import { OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR } from './whiteouts';
import { binarySafePax } from './xattrs';
import { capLongHeaders } from './header';
import type { DiskReserve, SpaceMeter } from '../util/diskspace';
import { shiftOwners, type OwnerShift } from './idshift';

export interface TarApplierOptions {
  /**
   * Not running as root (default: euid ≠ 0). Device nodes are refused (fifos
   * are fine), trusted.* and security.* xattrs are skipped, and owners that
   * cannot be set are left as they are.
   */
  readonly rootless?: boolean;
  /** Large files whose content and metadata are written at once, alongside reading (default 8). */
  readonly concurrency?: number;
  /** Files up to this many bytes are read whole and written with one call (default 64 KiB). */
  readonly smallFileSize?: number;
  /** Free space to leave on the target's filesystem (default: none checked). */
  readonly reserve?: DiskReserve;
  /** The daemon's --userns-remap mapping: owners are shifted into it (idshift.ts). */
  readonly shift?: OwnerShift;
}

/** Where a layer goes, from the active snapshot's mounts. */
export interface ApplyTarget {
  readonly root: string;
  /** Overlay lowerdirs, top-most first. */
  readonly lowers: readonly string[];
  readonly whiteouts: 'overlay' | 'native';
  /** Overlay: the xattr that marks an opaque directory (user.overlay.opaque under `userxattr`). */
  readonly opaqueXattr: string;
}

/**
 * The directory to write for `mounts`: an overlay's upperdir (consulting its
 * lowerdirs) or a bind mount's source. InvalidArgument for anything else.
 */
export function applyTarget(mounts: readonly Mount[]): ApplyTarget {
  if (mounts.length !== 1) throw invalidArgument(`cannot apply a layer to ${mounts.length} mounts (want exactly one)`);
  const [m] = mounts;
  if (isOverlay(m)) {
    const upper = optionValue(m, 'upperdir');
    if (!upper) throw invalidArgument('cannot apply a layer to an overlay mount without upperdir (read-only)');
    const lower = optionValue(m, 'lowerdir');
    return {
      root: upper,
      lowers: lower ? lower.split(':').filter((d) => d !== '') : [],
      whiteouts: 'overlay',
      opaqueXattr: m.options.includes('userxattr') ? OVERLAY_USER_OPAQUE_XATTR : OVERLAY_OPAQUE_XATTR,
    };
  }
  if (m.type === 'bind' || m.type === 'rbind') {
    if (m.options.includes('ro')) throw invalidArgument(`cannot apply a layer to a read-only bind mount of ${m.source}`);
    return { root: m.source, lowers: [], whiteouts: 'native', opaqueXattr: OVERLAY_OPAQUE_XATTR };
  }
  throw invalidArgument(`cannot apply a layer to a ${JSON.stringify(m.type)} mount`);
}

/** The parts of tar-stream's extractor used here (its bundled typings lag its options). */
interface Extractor {
  readonly destroyed: boolean;
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(e?: Error): void;
  on(event: 'entry', fn: (header: EntryHeader, data: EntryData, next: (e?: unknown) => void) => void): unknown;
  on(event: 'drain' | 'close', fn: () => void): unknown;
  once(event: 'finish' | 'close', fn: () => void): unknown;
  once(event: 'error', fn: (e: Error) => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}

const DIFF_ID = /^(sha256|sha512):([a-f0-9]+)$/;

/** What an entry costs on disk beyond its content, for the free-space checks: about a block and an inode. */
const ENTRY_COST = 4096;

export class TarApplier implements Applier {
  private readonly rootless: boolean;
  private readonly concurrency: number;
  private readonly smallFileSize: number;
  private readonly reserve: DiskReserve | undefined;
  private readonly shift: OwnerShift | undefined;

  constructor(options: TarApplierOptions = {}) {
    this.rootless = options.rootless ?? (process.geteuid?.() ?? 0) !== 0;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.smallFileSize = options.smallFileSize ?? 64 * 1024;
    this.reserve = options.reserve;
    this.shift = options.shift;
  }

  async apply(ctx: Ctx, mounts: readonly Mount[], layer: Readable, options: ApplyOptions): Promise<ApplyResult> {
    let writer: LayerWriter;
    let algorithm: string;
    let source: AsyncIterable<Buffer>;
    let meter: SpaceMeter | undefined;
    try {
      const target = applyTarget(mounts);
      const digest = DIFF_ID.exec(options.diffId);
      if (!digest) throw invalidArgument(`invalid diff ID ${JSON.stringify(options.diffId)}`);
      algorithm = digest[1];
      source = decompress(layer, compressionOf(options.mediaType));
      if (ctx.signal.aborted) throw cancelled(ctx.signal);
      writer = new LayerWriter({
        ...target,
        rootless: this.rootless,
        concurrency: this.concurrency,
        smallFileSize: this.smallFileSize,
        signal: ctx.signal,
      });
      meter = this.reserve?.meter(target.root, `unpacking layer ${options.digest ?? options.diffId}`);
    } catch (e) {
      layer.destroy();
      throw e;
    }
    return run(ctx, writer, layer, source, algorithm, options.diffId, meter, this.shift);
  }
}

async function run(
  ctx: Ctx,
  writer: LayerWriter,
  layer: Readable,
  source: AsyncIterable<Buffer>,
  algorithm: string,
  diffId: string,
  meter: SpaceMeter | undefined,
  shift: OwnerShift | undefined,
): Promise<ApplyResult> {
  const hash = createHash(algorithm);
  let size = 0;
  // The first failure wins: later ones are consequences of tearing the
  // pipeline down. A non-GantryError from an entry (its stream torn down) is
  // such a consequence: it counts only if nothing else explains the failure.
  let first: { error: unknown } | undefined;
  let consequence: { error: unknown } | undefined;
  const fail = (e: unknown) => {
    first ??= { error: e };
  };
  // latin1: names stay exact bytes (writer.ts decodes them, refusing non-UTF-8).
  const extract = tar.extract({ filenameEncoding: 'latin1' } as Parameters<typeof tar.extract>[0]) as unknown as Extractor;
  binarySafePax(extract);
  capLongHeaders(extract);

  let current: Promise<void> = Promise.resolve();
  const entriesDone = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header: EntryHeader, data: EntryData, next: (e?: unknown) => void) => {
      // Tearing the extractor down (cancel, a refused entry) destroys this
      // entry's stream with the same error, possibly before the writer has
      // started reading it (it may wait for disk space first). The failure
      // is already recorded by whoever tore down; the writer, once reading,
      // sees the error through its own read.
      data.on('error', () => undefined);
      // A large file is checked against the reserve before it is created ("would leave less than …").
      // Every entry is charged a block and an inode too, so empty files are counted.
      const isFile = header.type === 'file' || header.type === 'contiguous-file';
      const room = (isFile ? meter?.before(header.size ?? 0) : undefined) ?? meter?.wrote(ENTRY_COST);
      // shiftOwners throws for an owner outside the mapping: a rejection like any refused entry.
      const apply = (): Promise<void> => {
        try {
          return writer.entry(shift ? shiftOwners(header, shift) : header, data);
        } catch (e) {
          return Promise.reject(e);
        }
      };
      current = (room ? room.then(apply) : apply()).then(
        () => next(),
        (e: unknown) => {
          if (isGantryError(e)) fail(e);
          else consequence ??= { error: e };
          next(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
    extract.once('finish', () => resolve());
    extract.once('error', (e: Error) => reject(e));
    extract.once('close', () => reject(new Error('tar stream closed early')));
  });
  entriesDone.catch(() => undefined);

  const onAbort = () => {
    fail(cancelled(ctx.signal));
    extract.destroy(new Error('cancelled'));
    layer.destroy();
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  const feed = async () => {
    try {
      for await (const chunk of source) {
        hash.update(chunk);
        size += chunk.length;
        // The uncompressed bytes bound what is written (and inodes, 512 bytes of header each).
        const room = meter?.wrote(chunk.length);
        if (room) await room;
        if (!extract.write(chunk)) await drained(extract);
        if (first || consequence || extract.destroyed) break;
      }
      extract.end();
    } catch (e) {
      fail(e);
      extract.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  };

  try {
    await Promise.all([feed(), entriesDone.catch((e: unknown) => fail(tarError(e)))]);
    await current;
    first ??= consequence;
    if (first) throw first.error;
    const got = `${algorithm}:${hash.digest('hex')}`;
    if (got !== diffId) throw dataLoss(`layer diff ID mismatch: expected ${diffId}, got ${got}`);
    await writer.finish();
    return { diffId: got, uncompressedSize: size, entries: writer.entries };
  } catch (e) {
    layer.destroy();
    await current.catch(() => undefined);
    await writer.settle();
    if (ctx.signal.aborted && !isGantryError(e)) throw cancelled(ctx.signal);
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** Waits for 'drain', or for the extractor to close (its error surfaces through entriesDone). */
function drained(extract: Extractor): Promise<void> {
  return new Promise((resolve) => {
    if (extract.destroyed) return resolve();
    const finish = () => {
      extract.off('drain', finish);
      extract.off('close', finish);
      resolve();
    };
    extract.on('drain', finish);
    extract.on('close', finish);
  });
}

/** tar-stream's own errors (bad headers, truncated data) mean a malformed layer. */
function tarError(e: unknown): unknown {
  if (isGantryError(e)) return e;
  return invalidArgument(`layer is not a valid tar archive: ${e instanceof Error ? e.message : String(e)}`, e);
}

function cancelled(signal: AbortSignal): GantryError {
  return new GantryError('Cancelled', 'layer apply cancelled', { cause: signal.reason });
}
