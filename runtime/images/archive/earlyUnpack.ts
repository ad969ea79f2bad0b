/**
 * Unpacking during a load, while the archive is still being read.
 *
 * The image a load records is only known at the end (index.json and
 * manifest.json come last in every archive we read), but the archives
 * `gantry save` and `ctr images export` write put each manifest and its
 * config before its layers. So a blob that parses as an image manifest for
 * this host's platform, followed by its config, starts an unpack job
 * (unpacker.ts, as a pull does) whose layers are applied from the content
 * store as each one is committed, while the next ones are still arriving.
 *
 * Nothing here decides what is loaded: load.ts takes the job of the
 * manifest it chose (`take`), or starts its own when there is none. A job
 * nobody takes is stopped and awaited (`close`); what it committed is
 * garbage once the load's lease is released. A snapshot is still committed
 * only after its layer's digest (content store) and DiffID (applier) were
 * verified, so unpacking early is never less safe than unpacking after.
 */
import type { Ctx } from '../../context';
import type { Store } from '../../content/content';
import { invalidArgument } from '../../errdefs/errdefs';
import type { Lease } from '../../gc/gc';
import { MAX_MANIFEST_BYTES, MediaTypes } from '../../oci/descriptor';
import { configPlatform, parseConfig, parseManifest, type Manifest } from '../../oci/manifest';
import { hostPlatform, matches } from '../platform';
import type { UnpackJob, Unpacker } from '../unpacker';

/** Configs are small; a blob larger than this is not one (as load.ts prepare reads them). */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

interface Waiter {
  readonly job: UnpackJob;
  readonly index: number;
}

export class EarlyUnpack {
  /** Manifests seen whose config has not arrived yet, by config digest. */
  private readonly byConfig = new Map<string, { digest: string; manifest: Manifest }[]>();
  /** Started jobs by manifest digest. */
  private readonly jobs = new Map<string, UnpackJob>();
  /** Layers a job still waits for, by layer digest. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** Digests committed by this load so far. */
  private readonly committed = new Set<string>();
  private readonly platform = hostPlatform();

  constructor(
    private readonly ctx: Ctx,
    private readonly content: Store,
    private readonly unpacker: Unpacker,
    private readonly lease: Lease,
  ) {}

  /**
   * A blob of the archive is committed in the content store (`first`: its
   * first bytes). Releases the jobs waiting for it; a manifest or config
   * may start one. Never fails: a blob that is neither is simply a blob.
   */
  async stored(digest: string, size: number, first: Buffer): Promise<void> {
    this.committed.add(digest);
    const waiters = this.waiting.get(digest);
    if (waiters) {
      this.waiting.delete(digest);
      for (const w of waiters) w.job.layerFetched(w.index);
    }
    // Manifests and configs are JSON objects.
    if (first[0] !== 0x7b || size > MAX_CONFIG_BYTES) return;
    try {
      const bytes = await this.content.readAll(this.ctx, digest, MAX_CONFIG_BYTES);
      const pending = this.byConfig.get(digest);
      if (pending) {
        this.byConfig.delete(digest);
        for (const p of pending) this.start(p.digest, p.manifest, bytes);
      }
      if (size <= MAX_MANIFEST_BYTES) await this.manifest(digest, bytes);
    } catch {
      // Not a document we can use early: load.ts reads it again and reports what is wrong.
    }
  }

  /** The job of this manifest, if one started; it is the caller's from now on. */
  take(manifestDigest: string): UnpackJob | undefined {
    const job = this.jobs.get(manifestDigest);
    this.jobs.delete(manifestDigest);
    return job;
  }

  /**
   * The archive is read whole: layers it did not carry are looked for in
   * the store (an image loaded again), else the job fails as incomplete.
   */
  async archiveRead(): Promise<void> {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const [digest, waiters] of waiting) {
      let error: unknown;
      try {
        await this.content.info(this.ctx, digest);
      } catch {
        error = invalidArgument(`archive is incomplete: it lacks blob ${digest}`);
      }
      for (const w of waiters) w.job.layerFetched(w.index, error);
    }
  }

  /** Stops the jobs nobody took and waits until they are settled. */
  async close(reason: unknown): Promise<void> {
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    for (const waiters of this.waiting.values()) for (const w of waiters) w.job.layerFetched(w.index, reason);
    this.waiting.clear();
    for (const job of jobs) job.abort(reason);
    await Promise.allSettled(jobs.map((j) => j.done));
  }

  private async manifest(digest: string, bytes: Buffer): Promise<void> {
    const doc = JSON.parse(bytes.toString()) as { schemaVersion?: unknown; config?: unknown; layers?: unknown; mediaType?: unknown };
    if (doc.schemaVersion !== 2 || !doc.config || !Array.isArray(doc.layers) || this.jobs.has(digest)) return;
    const manifest = parseManifest(bytes, MediaTypes.ociManifest);
    if (!manifest.layers.length) return;
    if (this.committed.has(manifest.config.digest)) {
      // The config came first: start now.
      this.start(digest, manifest, await this.content.readAll(this.ctx, manifest.config.digest, MAX_CONFIG_BYTES));
      return;
    }
    const list = this.byConfig.get(manifest.config.digest) ?? [];
    list.push({ digest, manifest });
    this.byConfig.set(manifest.config.digest, list);
  }

  private start(digest: string, manifest: Manifest, configBytes: Buffer): void {
    if (this.jobs.has(digest)) return;
    const config = parseConfig(configBytes);
    // Another platform's image (a multi-platform archive) is not the one a load keeps.
    if (!matches(this.platform, configPlatform(config))) return;
    if (config.rootfs.diff_ids.length !== manifest.layers.length) return;
    const job = this.unpacker.start(this.ctx, manifest.layers, config.rootfs.diff_ids, () => undefined);
    for (const chain of job.chain) this.lease.add(chain);
    this.jobs.set(digest, job);
    manifest.layers.forEach((layer, index) => {
      if (this.committed.has(layer.digest)) job.layerFetched(index);
      else {
        const list = this.waiting.get(layer.digest) ?? [];
        list.push({ job, index });
        this.waiting.set(layer.digest, list);
      }
    });
  }
}
