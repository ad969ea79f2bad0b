/**
 * Push: an image record → its registry (docs/transfer.md).
 *
 *   record ──► what to push (index + every manifest, or one manifest) ──►
 *   per manifest: config + layers ∥ (exists? mount? upload) ──► manifest ──► index ──► tag
 *
 * What is sent is the image's closure (closure.ts): its index when every
 * platform is stored here, else its platform manifest. Blobs are read from the content
 * store one chunk at a time; where each blob came from (sources.ts) offers
 * the registry a cross-repository mount first.
 */
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import type { CredentialLookup, Pusher, Reference, Registry } from '../distribution/distribution';
import { parseReference, withTag } from '../distribution/reference';
import { invalidArgument, notFound } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import { MAX_MANIFEST_BYTES, type Descriptor, type Platform } from '../oci/descriptor';
import { parseManifest } from '../oci/manifest';
import { throttle } from '../presentation/throttle';
import { forEachLimited } from '../util/concurrency';
import { repositoryOf, tagOf, type Image, type ImageStore } from './images';
import { imageClosure } from './closure';
import { ImageTopics } from './records';
import { recordSource, sourcesOf } from './sources';

export type PushBlobStatus = 'waiting' | 'pushing' | 'pushed' | 'exists' | 'mounted';

export type PushProgress =
  | { kind: 'started'; name: string; target: Descriptor }
  | {
      kind: 'blob';
      role: 'config' | 'layer';
      mediaType: string;
      digest: string;
      status: PushBlobStatus;
      offset: number;
      total: number;
      mountedFrom?: string;
    };

export interface PushOptions {
  platform?: Platform;
  allTags?: boolean;
  credentials?: CredentialLookup;
  onProgress?: (p: PushProgress) => void;
  /** PATCH chunk size, and the largest blob sent in one PUT (tests make it small). */
  chunkSize?: number;
}

export interface PushedImage {
  /** The remote reference: "127.0.0.1:5000/repo:tag" (or "repo@digest"). */
  readonly name: string;
  readonly target: Descriptor;
}

export interface PusherDeps {
  readonly content: Store;
  readonly registry: Registry;
  readonly images: ImageStore;
  readonly events: Publisher;
  /** Blobs uploaded at once (default 3). */
  readonly concurrency?: number;
}

const PROGRESS_INTERVAL_MS = 100;

export class ImagePusher {
  constructor(private readonly deps: PusherDeps) {}

  async push(ctx: Ctx, reference: string, options: PushOptions = {}): Promise<PushedImage[]> {
    const ref = parseReference(reference);
    const records = this.records(ref, reference, options.allTags === true);
    const pusher = this.deps.registry.pusher(options.credentials);
    const pushed: PushedImage[] = [];
    for (const image of records) pushed.push(await this.pushOne(ctx, pusher, image, options));
    return pushed;
  }

  /** The records to push: the one named, or every tag of the repository. */
  private records(ref: Reference, reference: string, allTags: boolean): Image[] {
    const all = this.deps.images.list();
    if (allTags) {
      // Docker's rule: a tag or digest makes no sense with --all-tags (the name's last component carries it).
      if (ref.digest || reference.slice(reference.lastIndexOf('/') + 1).includes(':')) {
        throw invalidArgument(`--all-tags takes a repository without a tag or digest: ${reference}`);
      }
      const tagged = all.filter((i) => repositoryOf(i.name) === ref.name && tagOf(i.name)).sort((a, b) => a.name.localeCompare(b.name));
      if (!tagged.length) throw notFound(`no tagged image of repository ${ref.name} to push`);
      return tagged;
    }
    const found = ref.digest
      ? all.find((i) => repositoryOf(i.name) === ref.name && i.target.digest === ref.digest)
      : this.deps.images.get(`${ref.name}:${ref.tag}`);
    if (!found) throw notFound(`no such image: ${reference} (tag an image with that name first: gantry tag IMAGE ${reference})`);
    return [found];
  }

  private async pushOne(ctx: Ctx, pusher: Pusher, image: Image, options: PushOptions): Promise<PushedImage> {
    const emit = options.onProgress ?? (() => undefined);
    const repo = parseReference(repositoryOf(image.name));
    const tag = tagOf(image.name);
    const remote = tag ? withTag(repo, tag) : parseReference(`${repo.name}@${image.target.digest}`);
    const { top, manifests } = await imageClosure(ctx, this.deps.content, image, options.platform);
    emit({ kind: 'started', name: remote.toString(), target: top });

    const pushedBlobs: string[] = [];
    for (const m of manifests) {
      const bytes = await this.deps.content.readAll(ctx, m.digest, MAX_MANIFEST_BYTES);
      const manifest = parseManifest(bytes, m.mediaType, `manifest ${m.digest}`);
      const blobs: { desc: Descriptor; role: 'config' | 'layer' }[] = [
        { desc: manifest.config, role: 'config' },
        ...manifest.layers.map((desc) => ({ desc, role: 'layer' as const })),
      ];
      for (const b of blobs)
        emit({
          kind: 'blob',
          role: b.role,
          mediaType: b.desc.mediaType,
          digest: b.desc.digest,
          status: 'waiting',
          offset: 0,
          total: b.desc.size,
        });
      await forEachLimited(blobs, this.deps.concurrency ?? 3, ctx.signal, async (b, signal) => {
        await this.pushBlob({ signal }, pusher, remote, b.desc, b.role, emit, options.chunkSize);
        pushedBlobs.push(b.desc.digest);
      });
      // Manifests of an index go by digest; the top one by tag below.
      if (m.digest !== top.digest) await pusher.putManifest(ctx, remote, m.digest, m, bytes);
    }
    const topBytes = await this.deps.content.readAll(ctx, top.digest, MAX_MANIFEST_BYTES);
    await pusher.putManifest(ctx, remote, remote.tag ?? top.digest, top, topBytes);
    await recordSource(ctx, this.deps.content, remote.domain, remote.path, [...pushedBlobs, ...manifests.map((m) => m.digest), top.digest]);
    this.deps.events.publish(ImageTopics.push, image.name, { name: remote.toString(), digest: top.digest });
    return { name: remote.toString(), target: top };
  }

  private async pushBlob(
    ctx: Ctx,
    pusher: Pusher,
    remote: Reference,
    desc: Descriptor,
    role: 'config' | 'layer',
    emit: (p: PushProgress) => void,
    chunkSize: number | undefined,
  ): Promise<void> {
    const report = (status: PushBlobStatus, offset: number, mountedFrom?: string) =>
      emit({ kind: 'blob', role, mediaType: desc.mediaType, digest: desc.digest, status, offset, total: desc.size, mountedFrom });
    if (await pusher.exists(ctx, remote, desc)) {
      report('exists', desc.size);
      return;
    }
    let offset = 0;
    const progress = throttle(PROGRESS_INTERVAL_MS, () => report('pushing', offset));
    progress.run(true);
    const reader = new ChunkedBlobReader(ctx, this.deps.content, desc.digest);
    try {
      const from = await sourcesOf(ctx, this.deps.content, desc.digest, remote.domain);
      const result = await pusher.upload(ctx, remote, desc, (o, n) => reader.read(o, n), from, {
        chunkSize,
        onProgress: (o) => {
          offset = o;
          progress.run();
        },
      });
      progress.cancel();
      if (result.kind === 'mounted') report('mounted', desc.size, result.from);
      else if (result.kind === 'exists') report('exists', desc.size);
      else report('pushed', desc.size);
    } finally {
      progress.cancel();
      reader.close();
    }
  }
}

/**
 * Reads a stored blob in order, one chunk at a time; a read that goes back
 * (an upload resumed from an earlier offset) reopens the blob and skips.
 */
class ChunkedBlobReader {
  private stream: Readable | undefined;
  private position = 0;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly ctx: Ctx,
    private readonly content: Store,
    private readonly digest: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (!this.stream || offset < this.position) await this.reopen();
    while (this.position + this.pending.length < offset + length) {
      const chunk = await this.next();
      if (!chunk) throw notFound(`blob ${this.digest} ended at ${this.position + this.pending.length} bytes, before ${offset + length}`);
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      // Drop what lies before the requested offset as it arrives.
      if (this.position < offset) {
        const skip = Math.min(offset - this.position, this.pending.length);
        this.pending = this.pending.subarray(skip);
        this.position += skip;
      }
    }
    const out = Buffer.from(this.pending.subarray(offset - this.position, offset - this.position + length));
    this.pending = this.pending.subarray(offset - this.position + length);
    this.position = offset + length;
    return out;
  }

  close(): void {
    this.stream?.destroy();
    this.stream = undefined;
  }

  private async reopen(): Promise<void> {
    this.close();
    this.stream = await this.content.read(this.ctx, this.digest);
    this.position = 0;
    this.pending = Buffer.alloc(0);
  }

  private next(): Promise<Buffer | undefined> {
    const s = this.stream!;
    return new Promise((resolve, reject) => {
      const chunk = s.read() as Buffer | null;
      if (chunk) return resolve(chunk);
      if (s.readableEnded) return resolve(undefined);
      const done = () => {
        s.off('readable', onReadable);
        s.off('end', onEnd);
        s.off('error', onError);
      };
      const onReadable = () => {
        const c = s.read() as Buffer | null;
        if (c) {
          done();
          resolve(c);
        }
      };
      const onEnd = () => {
        done();
        resolve(undefined);
      };
      const onError = (e: Error) => {
        done();
        reject(e);
      };
      s.on('readable', onReadable);
      s.on('end', onEnd);
      s.on('error', onError);
    });
  }
}
