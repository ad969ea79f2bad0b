/**
 * Moving one blob from a registry into the content store: the inner loop of
 * a pull. Streams the body straight into an ingest (digest computed on the
 * way), resumes with an HTTP Range request after a mid-stream failure or a
 * daemon restart, and commits only verified bytes. Downloads of the same
 * digest are shared: a second puller joins the running fetch.
 */
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import type { Fetcher, Reference } from '../distribution/distribution';
import { isAlreadyExists, isNotFound, kindOf } from '../errdefs/errdefs';
import type { Descriptor } from '../oci/descriptor';
import { backoffDelay, sleep } from '../distribution/retry';
import type { LayerSink } from './unpacker';
import { throttle } from '../presentation/throttle';

/** Download states, then (layers of an unpacked pull) extraction states. */
export type BlobStatus = 'waiting' | 'downloading' | 'verifying' | 'done' | 'exists' | 'extracting' | 'extracted';

export interface BlobProgress {
  readonly digest: string;
  readonly status: BlobStatus;
  readonly offset: number;
  readonly total: number;
}

export type ProgressListener = (progress: BlobProgress) => void;

/** Attempts without a single new byte before giving up on a blob. */
const MAX_STALLED_ATTEMPTS = 5;
const PROGRESS_INTERVAL_MS = 100;

interface InFlight {
  readonly done: Promise<void>;
  readonly listeners: Set<ProgressListener>;
}

export class BlobFetcher {
  private readonly inFlight = new Map<string, InFlight>();

  constructor(private readonly content: Store) {}

  /** Whether the store already has the blob. */
  async has(ctx: Ctx, digest: string): Promise<boolean> {
    try {
      await this.content.info(ctx, digest);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Ensures `desc` is in the content store, downloading it if needed.
   * Reports progress to `onProgress`; resolves once the blob is committed.
   */
  async fetch(
    ctx: Ctx,
    fetcher: Fetcher,
    ref: Reference,
    desc: Descriptor,
    onProgress: ProgressListener,
    openSink?: () => LayerSink | undefined,
  ): Promise<void> {
    const running = this.inFlight.get(desc.digest);
    if (running) {
      onProgress({ digest: desc.digest, status: 'waiting', offset: 0, total: desc.size });
      running.listeners.add(onProgress);
      try {
        await running.done;
        return;
      } catch (e) {
        // The first puller was cancelled; that is no reason for us to fail.
        if (kindOf(e) !== 'Cancelled' || ctx.signal.aborted) throw e;
      } finally {
        running.listeners.delete(onProgress);
      }
      return this.fetch(ctx, fetcher, ref, desc, onProgress, openSink);
    }
    // Registered before the first await, so a second caller arriving while we
    // check the store joins us instead of opening the same ingest ("ref locked").
    const listeners = new Set<ProgressListener>([onProgress]);
    const emit: ProgressListener = (p) => listeners.forEach((l) => l(p));
    const done = (async () => {
      if (await this.has(ctx, desc.digest)) {
        emit({ digest: desc.digest, status: 'exists', offset: desc.size, total: desc.size });
        return;
      }
      await this.download(ctx, fetcher, ref, desc, emit, openSink);
    })();
    this.inFlight.set(desc.digest, { done, listeners });
    try {
      await done;
    } finally {
      this.inFlight.delete(desc.digest);
    }
  }

  private async download(
    ctx: Ctx,
    fetcher: Fetcher,
    ref: Reference,
    desc: Descriptor,
    emit: ProgressListener,
    openSink: (() => LayerSink | undefined) | undefined,
  ): Promise<void> {
    // A stable ref: after a daemon restart the same ingest is found and resumed.
    const writer = await this.content.writer(ctx, { ref: `fetch-${desc.digest}`, expected: { digest: desc.digest, size: desc.size } });
    // Tee the bytes to an unpacker only when it can see all of them from the first.
    let sink = writer.offset === 0 ? openSink?.() : undefined;
    let status: BlobStatus = 'downloading';
    const progress = throttle(PROGRESS_INTERVAL_MS, () => emit({ digest: desc.digest, status, offset: writer.offset, total: desc.size }));
    const report = (next: BlobStatus, force = false) => {
      status = next;
      progress.run(force);
    };
    try {
      report('downloading', true);
      let stalled = 0;
      while (writer.offset < desc.size || desc.size === 0) {
        const before = writer.offset;
        try {
          const blob = await fetcher.fetchBlob(ctx, ref, desc, writer.offset);
          if (blob.offset !== writer.offset) {
            await writer.truncate(); // Range ignored: start over
            sink?.abort(new Error('the registry restarted the blob from the beginning'));
            sink = undefined;
          }
          for await (const chunk of blob.body) {
            if (writer.offset + (chunk as Buffer).length > desc.size) break; // longer than promised: let commit fail it
            await writer.write(chunk as Buffer);
            await sink?.write(chunk as Buffer);
            report('downloading');
          }
          if (writer.offset >= desc.size) break;
          throw new Error(`blob ${desc.digest} ended at ${writer.offset} of ${desc.size} bytes`);
        } catch (e) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          if (!isRetryable(e)) throw e;
          stalled = writer.offset > before ? 0 : stalled + 1;
          if (stalled >= MAX_STALLED_ATTEMPTS) throw e;
          await sleep(ctx, backoffDelay(stalled));
        }
      }
      sink?.end();
      report('verifying', true);
      try {
        await writer.commit(desc.size, desc.digest);
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
      progress.cancel();
      emit({ digest: desc.digest, status: 'done', offset: desc.size, total: desc.size });
    } catch (e) {
      sink?.abort(e instanceof Error ? e : new Error(String(e)));
      throw e;
    } finally {
      progress.cancel();
      await writer.close();
    }
  }
}

/** Failures worth another Range request: the connection, not the request, went wrong. */
function isRetryable(e: unknown): boolean {
  const kind = kindOf(e);
  return kind === 'Unknown' || kind === 'Unavailable';
}
