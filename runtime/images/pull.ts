/**
 * Pull: reference → verified content + an image record.
 *
 *   resolve ──► index? ──► pick platform ──► manifest ──► config ─┐
 *                                                  └──► layers ∥ ─┴─► record + event
 *
 * Everything fetched is added to a GC lease first, so a concurrent
 * collection cannot delete it before the record exists. Layers download in
 * parallel (bounded); the first failure cancels the rest. Nothing becomes
 * visible as an image until every blob is verified and committed.
 */
import { randomUUID } from 'node:crypto';
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import type { CredentialLookup, Fetcher, Reference, Registry } from '../distribution/distribution';
import { parseReference } from '../distribution/reference';
import { invalidArgument, isAlreadyExists, notFound } from '../errdefs/errdefs';
import type { Collector } from '../gc/gc';
import type { Publisher } from '../events/events';
import { isIndex, MAX_MANIFEST_BYTES, type Descriptor, type Platform } from '../oci/descriptor';
import { forEachLimited } from '../util/concurrency';
import { BlobFetcher, type BlobProgress, type BlobStatus } from './fetch';
import type { Image, ImageStore } from './images';
import { putImage } from './records';
import { recordSource } from './sources';
import { chainIds, type UnpackStatus, type Unpacker } from './unpacker';
import { configPlatform, parseConfig, parseIndex, parseManifest } from '../oci/manifest';
import { formatPlatform, hostPlatform, selectManifest } from './platform';

export type PullProgress =
  | { kind: 'resolved'; name: string; target: Descriptor; platform: Platform }
  | { kind: 'blob'; role: 'config' | 'layer'; mediaType: string; progress: BlobProgress };

export interface PullOptions {
  platform?: Platform;
  credentials?: CredentialLookup;
  onProgress?: (progress: PullProgress) => void;
}

export interface PullerDeps {
  readonly content: Store;
  /** When present, layers are unpacked into snapshots while they download. */
  readonly unpacker?: Unpacker;
  readonly registry: Registry;
  readonly images: ImageStore;
  readonly gc: Collector;
  readonly events: Publisher;
  /** Layers downloaded at once (default 3). */
  readonly concurrency?: number;
}

/** A layer whose snapshot already exists reads as "Already exists", as in Docker. */
const UNPACK_STATUS: Record<UnpackStatus, BlobStatus> = { extracting: 'extracting', extracted: 'extracted', present: 'exists' };

/** Configs are small JSON; refuse absurd ones before buffering them. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export class Puller {
  private readonly blobs: BlobFetcher;

  constructor(private readonly deps: PullerDeps) {
    this.blobs = new BlobFetcher(deps.content);
  }

  async pull(ctx: Ctx, reference: string, options: PullOptions = {}): Promise<Image> {
    const ref = parseReference(reference);
    const wanted = options.platform ?? hostPlatform();
    const emit = options.onProgress ?? (() => undefined);
    const fetcher = this.deps.registry.fetcher(options.credentials);
    const lease = this.deps.gc.lease();
    try {
      const target = await fetcher.resolve(ctx, ref);
      lease.add(target.digest);

      let manifestDesc = target;
      if (isIndex(target.mediaType)) {
        const index = parseIndex(await this.fetchDocument(ctx, fetcher, ref, target), target.mediaType, `index ${target.digest}`);
        const chosen = selectManifest(index.manifests, wanted);
        if (!chosen) {
          const offered = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
          throw notFound(`${ref} has no image for ${formatPlatform(wanted)} (it offers: ${offered || 'nothing'})`);
        }
        manifestDesc = chosen;
        lease.add(manifestDesc.digest);
      }
      emit({ kind: 'resolved', name: ref.toString(), target, platform: manifestDesc.platform ?? wanted });

      const manifest = parseManifest(
        await this.fetchDocument(ctx, fetcher, ref, manifestDesc),
        manifestDesc.mediaType,
        `manifest ${manifestDesc.digest}`,
      );
      lease.add(manifest.config.digest);
      for (const layer of manifest.layers) lease.add(layer.digest);

      const configBytes = await this.fetchConfig(ctx, fetcher, ref, manifest.config, emit);
      const config = parseConfig(configBytes, `image config ${manifest.config.digest}`);
      if (config.rootfs.diff_ids.length !== manifest.layers.length) {
        throw invalidArgument(
          `image ${ref} is inconsistent: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids in its config`,
        );
      }

      // Snapshots are named by ChainID; leasing them keeps a concurrent collection off them.
      for (const chain of chainIds(config.rootfs.diff_ids)) lease.add(chain);
      const chainId = await this.fetchLayers(ctx, fetcher, ref, manifest.layers, config.rootfs.diff_ids, emit);

      // Where the blobs came from: a later push to this registry can mount them (sources.ts).
      const blobs = [target.digest, manifestDesc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      await recordSource(ctx, this.deps.content, ref.domain, ref.path, blobs);
      const now = new Date();
      return await putImage(this.deps.images, this.deps.events, {
        name: recordName(ref, target),
        target,
        manifest: manifestDesc,
        platform: manifestDesc.platform ?? configPlatform(config),
        id: manifest.config.digest,
        size: manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0),
        created: config.created,
        ...(chainId && this.deps.unpacker ? { snapshot: { snapshotter: this.deps.unpacker.snapshotterName, chainId } } : {}),
        createdAt: now,
        updatedAt: now,
        labels: {},
      });
    } finally {
      lease.release();
    }
  }

  /**
   * Downloads the layers (bounded parallelism) and, with an unpacker, applies
   * them in order as they arrive. The first failure on either side cancels
   * the other. Resolves with the top ChainID ('' without an unpacker).
   */
  private async fetchLayers(
    ctx: Ctx,
    fetcher: Fetcher,
    ref: Reference,
    layers: readonly Descriptor[],
    diffIds: readonly string[],
    emit: (p: PullProgress) => void,
  ): Promise<string> {
    const controller = new AbortController();
    const abort = () => controller.abort(ctx.signal.reason);
    if (ctx.signal.aborted) abort();
    else ctx.signal.addEventListener('abort', abort, { once: true });
    const layerCtx: Ctx = { signal: controller.signal };
    const indexOf = new Map(layers.map((l, i) => [l, i]));
    const job = this.deps.unpacker?.start(layerCtx, layers, diffIds, (i, status) =>
      emit({
        kind: 'blob',
        role: 'layer',
        mediaType: layers[i].mediaType,
        progress: { digest: layers[i].digest, status: UNPACK_STATUS[status], offset: layers[i].size, total: layers[i].size },
      }),
    );
    job?.done.catch((e: unknown) => controller.abort(e));
    try {
      await forEachLimited(layers, this.deps.concurrency ?? 3, controller.signal, async (layer, signal) => {
        const i = indexOf.get(layer)!;
        try {
          await this.blobs.fetch(
            { signal },
            fetcher,
            ref,
            layer,
            (progress) => emit({ kind: 'blob', role: 'layer', mediaType: layer.mediaType, progress }),
            job ? () => job.offerStream(i) : undefined,
          );
          job?.layerFetched(i);
        } catch (e) {
          job?.layerFetched(i, e);
          throw e;
        }
      });
      return job ? await job.done : '';
    } catch (e) {
      // When the unpacker failed first, the downloads were aborted with its
      // error as the reason, so `e` already names the real cause.
      job?.abort(e);
      await job?.done.catch(() => undefined); // let it remove its half-applied snapshot first
      throw e;
    } finally {
      ctx.signal.removeEventListener('abort', abort);
    }
  }

  /** Manifests and indexes: from the store when present, else fetched, verified and stored. */
  private async fetchDocument(ctx: Ctx, fetcher: Fetcher, ref: Reference, desc: Descriptor): Promise<Buffer> {
    if (!(await this.blobs.has(ctx, desc.digest))) {
      const bytes = await fetcher.fetchManifest(ctx, ref, desc);
      await this.storeVerified(ctx, desc, bytes);
    }
    return this.deps.content.readAll(ctx, desc.digest, MAX_MANIFEST_BYTES);
  }

  private async fetchConfig(
    ctx: Ctx,
    fetcher: Fetcher,
    ref: Reference,
    desc: Descriptor,
    emit: (p: PullProgress) => void,
  ): Promise<Buffer> {
    if (desc.size > MAX_CONFIG_BYTES)
      throw invalidArgument(`image config ${desc.digest} is ${desc.size} bytes; refusing more than ${MAX_CONFIG_BYTES}`);
    await this.blobs.fetch(ctx, fetcher, ref, desc, (progress) =>
      emit({ kind: 'blob', role: 'config', mediaType: desc.mediaType, progress }),
    );
    return this.deps.content.readAll(ctx, desc.digest, MAX_CONFIG_BYTES);
  }

  /**
   * Stores a document already in memory. Each call gets its own ingest ref:
   * there is nothing to resume, and two pulls storing the same manifest at
   * once must not fail on each other's ref lock (the second to commit gets
   * AlreadyExists, which is success).
   */
  private async storeVerified(ctx: Ctx, desc: Descriptor, bytes: Buffer): Promise<void> {
    const ref = `document-${desc.digest}-${randomUUID()}`;
    const writer = await this.deps.content.writer(ctx, { ref, expected: { digest: desc.digest, size: desc.size } });
    try {
      await writer.write(bytes);
      await writer.commit(desc.size, desc.digest);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    } finally {
      await writer.close();
    }
  }
}

/** `repo:tag` when pulled by tag (even with a digest pinned), else `repo@digest`. */
export function recordName(ref: Reference, target: Descriptor): string {
  return ref.tag ? `${ref.name}:${ref.tag}` : `${ref.name}@${target.digest}`;
}
