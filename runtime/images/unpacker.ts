/**
 * Unpacking a pulled image into snapshots, overlapped with its download
 * (containerd's core/unpack/unpacker.go, reshaped for streams).
 *
 * Layers must be applied in order — each snapshot's parent is the previous
 * layer's — while downloads run in parallel. The job walks the layers in
 * order; for each one whose ChainID is not already unpacked it takes the
 * first source available:
 *   - a *stream*: the layer's download started while it was this layer's
 *     turn, so its bytes are teed into the applier as they arrive (download →
 *     digest → decompress → apply in one pass);
 *   - the *store*: the download finished earlier (or the stream broke, e.g. a
 *     registry that ignored a Range request), so the layer is read back from
 *     the content store.
 * A snapshot is committed only after the applier verified the DiffID *and*
 * the content store verified the compressed digest. Until then it is an
 * `extract-` active snapshot, which a failure removes and start-up cleanup
 * removes after a crash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { cleanupSignal, type Ctx } from '../context';
import type { Store } from '../content/content';
import { isAlreadyExists, isNotFound } from '../errdefs/errdefs';
import type { Descriptor } from '../oci/descriptor';
import type { Snapshotter } from '../snapshots/snapshots';
import type { Applier } from '../unpack/unpack';

/** Snapshot keys of in-progress extractions; the snapshotter's cleanup removes leftovers. */
export const EXTRACT_KEY_PREFIX = 'extract-';

/** ChainIDs per image-spec: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const previous = chain[chain.length - 1];
    chain.push(previous ? `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}` : diffId);
  }
  return chain;
}

/** Where the fetcher sends a layer's bytes while they download. */
export interface LayerSink {
  write(chunk: Buffer): Promise<void>;
  /** All bytes were delivered. */
  end(): void;
  /** The download restarted or failed: the streamed apply is abandoned. */
  abort(reason: Error): void;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  const d = { settled: false } as Deferred<T>;
  d.promise = new Promise<T>((resolve, reject) => {
    d.resolve = (v) => {
      d.settled = true;
      resolve(v);
    };
    d.reject = (e) => {
      d.settled = true;
      reject(e);
    };
  });
  d.promise.catch(() => undefined); // observed later, or never (when the layer is skipped)
  return d;
}

export type UnpackStatus = 'extracting' | 'extracted' | 'present';

export class Unpacker {
  constructor(
    private readonly content: Store,
    private readonly snapshotter: Snapshotter,
    private readonly applier: Applier,
  ) {}

  get snapshotterName(): string {
    return this.snapshotter.name;
  }

  /** Starts unpacking `layers` (with the config's `diffIds`) as they arrive. */
  start(
    ctx: Ctx,
    layers: readonly Descriptor[],
    diffIds: readonly string[],
    onStatus: (layer: number, status: UnpackStatus) => void,
  ): UnpackJob {
    return new UnpackJob(ctx, this.content, this.snapshotter, this.applier, layers, diffIds, onStatus);
  }

  /** Whether every layer of a chain is already unpacked (a pull may then skip unpacking). */
  async isUnpacked(ctx: Ctx, chainId: string): Promise<boolean> {
    try {
      return (await this.snapshotter.stat(ctx, chainId)).kind === 'committed';
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}

export class UnpackJob {
  readonly chain: string[];
  private readonly streamOffers: Deferred<PassThrough>[];
  private readonly fetched: Deferred<void>[];
  /** The layer the job is waiting for right now (-1: none), the only one that may be streamed. */
  private waitingFor = -1;
  readonly done: Promise<string>;

  constructor(
    private readonly ctx: Ctx,
    private readonly content: Store,
    private readonly snapshotter: Snapshotter,
    private readonly applier: Applier,
    private readonly layers: readonly Descriptor[],
    private readonly diffIds: readonly string[],
    private readonly onStatus: (layer: number, status: UnpackStatus) => void,
  ) {
    this.chain = chainIds(diffIds);
    this.streamOffers = layers.map(() => deferred<PassThrough>());
    this.fetched = layers.map(() => deferred<void>());
    this.done = this.run();
    this.done.catch(() => undefined);
  }

  /**
   * Called when layer `index` starts downloading. Returns a sink when the
   * layer can be applied right now (its turn, not yet unpacked); otherwise
   * undefined, and the layer is applied from the store once fetched.
   */
  offerStream(index: number): LayerSink | undefined {
    const offer = this.streamOffers[index];
    if (index !== this.waitingFor || offer.settled || this.fetched[index].settled) return undefined;
    const pass = new PassThrough({ highWaterMark: 1 << 20 });
    // abort() may destroy the stream before the applier listens; it still sees
    // the error when it reads, but an unobserved 'error' event would crash the daemon.
    pass.on('error', () => undefined);
    offer.resolve(pass);
    return {
      write: async (chunk) => {
        if (pass.destroyed) return;
        if (!pass.write(chunk))
          await new Promise<void>((resolve) => {
            const done = () => {
              pass.off('drain', done);
              pass.off('close', done);
              resolve();
            };
            pass.once('drain', done);
            pass.once('close', done);
          });
      },
      end: () => pass.end(),
      abort: (reason) => pass.destroy(reason),
    };
  }

  /** Stops waiting for layers that will never arrive; the job fails with `reason`. */
  abort(reason: unknown): void {
    for (const d of [...this.fetched, ...this.streamOffers]) if (!d.settled) d.reject(reason);
  }

  /** Layer `index` is committed in the content store (or the download failed). */
  layerFetched(index: number, error?: unknown): void {
    if (error === undefined) this.fetched[index].resolve();
    else this.fetched[index].reject(error);
  }

  private async run(): Promise<string> {
    for (let i = 0; i < this.layers.length; i++) {
      const chainId = this.chain[i];
      if (await this.isCommitted(chainId)) {
        this.onStatus(i, 'present');
        continue;
      }
      // Whichever comes first: a live stream of this layer, or its stored blob.
      this.waitingFor = i;
      const first = await Promise.race([
        this.streamOffers[i].promise.then((stream) => ({ stream })),
        this.fetched[i].promise.then(() => ({ stream: undefined })),
      ]).finally(() => (this.waitingFor = -1));
      this.onStatus(i, 'extracting');
      if (first.stream) {
        try {
          await this.applyLayer(i, first.stream);
          this.onStatus(i, 'extracted');
          continue;
        } catch (e) {
          if (this.ctx.signal.aborted) throw e;
          // The stream broke (download restarted or failed); if the blob still
          // arrives, apply it from the store below. Otherwise this rethrows.
          await this.fetched[i].promise;
          if (!this.isStreamFailure(e)) throw e;
        }
      }
      await this.fetched[i].promise;
      await this.applyLayer(i, undefined);
      this.onStatus(i, 'extracted');
    }
    return this.chain[this.chain.length - 1] ?? '';
  }

  /**
   * Errors of the stream itself, not of the layer's content (a bad DiffID
   * fails the pull either way) nor of the disk (a layer that does not fit
   * would not fit from the store either).
   */
  private isStreamFailure(e: unknown): boolean {
    const kind = (e as { kind?: string }).kind;
    return kind !== 'DataLoss' && kind !== 'InvalidArgument' && kind !== 'ResourceExhausted';
  }

  private async applyLayer(index: number, stream: PassThrough | undefined): Promise<void> {
    const chainId = this.chain[index];
    const parent = index > 0 ? this.chain[index - 1] : '';
    const key = `${EXTRACT_KEY_PREFIX}${randomBytes(6).toString('hex')}-${chainId}`;
    const mounts = await this.snapshotter.prepare(this.ctx, key, parent);
    try {
      const source = stream ?? (await this.content.read(this.ctx, this.layers[index].digest));
      await this.applier.apply(this.ctx, mounts, source, {
        mediaType: this.layers[index].mediaType,
        diffId: this.diffIds[index],
        digest: this.layers[index].digest,
      });
      // Never commit what the content store has not verified.
      await this.fetched[index].promise;
      try {
        await this.snapshotter.commit(this.ctx, chainId, key);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
        await this.snapshotter.remove({ signal: cleanupSignal() }, key); // another pull unpacked it first
      }
    } catch (e) {
      stream?.destroy();
      await this.snapshotter.remove({ signal: cleanupSignal() }, key).catch(() => undefined);
      throw e;
    }
  }

  private async isCommitted(chainId: string): Promise<boolean> {
    try {
      return (await this.snapshotter.stat(this.ctx, chainId)).kind === 'committed';
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
