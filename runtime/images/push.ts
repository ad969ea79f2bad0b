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
  /** Blobs uploaded at once (default 6). */
  readonly concurrency?: number;
}

const PROGRESS_INTERVAL_MS = 100;
/**
 * Uploads at once. containerd's `ctr images push` starts every blob at once, Docker five; the
 * loopback registry of the transfer benchmark, sharing a busy machine, got its CPU share with
 * more streams in flight (docs/performance.md, "Transfer").
 */
const DEFAULT_CONCURRENCY = 6;

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
      // Largest first: the push then ends on small blobs, not on the biggest one uploading alone while
      // the other slots sit idle (docs/performance.md, "Transfer").
      const queue = [...blobs].sort((x, y) => y.desc.size - x.desc.size);
      await forEachLimited(queue, this.deps.concurrency ?? DEFAULT_CONCURRENCY, ctx.signal, async (b, signal) => {
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
 * The stream's buffers are collected as they come (flowing mode, paused
 * once a read's worth is here) and handed out as they are, or joined once
 * when a read spans two: growing one buffer per arriving piece, or
 * `read()` joining whatever is buffered, copied each byte many times over
 * (docs/performance.md, "Transfer").
 */
class ChunkedBlobReader {
  private stream: Readable | undefined;
  /** Blob offset of the first byte of `pending[0]`. */
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  private failed: Error | undefined;
  /** Bytes wanted before the stream pauses again. */
  private want = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly content: Store,
    private readonly digest: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (!this.stream || offset < this.position) await this.reopen();
    // Drop what lies before `offset` (a resume further on than we are).
    while (this.position < offset) {
      if (!this.pending.length) await this.fill(1, offset);
      const skip = Math.min(offset - this.position, this.pending[0].length);
      this.take(skip);
    }
    await this.fill(length, offset + length);
    const pieces: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const piece = this.pending[0].subarray(0, length - got);
      pieces.push(piece);
      got += piece.length;
      this.take(piece.length);
    }
    // A piece the store's stream read is nobody else's: it goes out as is; pieces across a boundary are joined once.
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, length);
  }

  close(): void {
    this.stream?.destroy();
    this.stream = undefined;
    this.wake?.();
  }

  private take(n: number): void {
    const first = this.pending[0];
    if (n === first.length) this.pending.shift();
    else this.pending[0] = first.subarray(n);
    this.pendingBytes -= n;
    this.position += n;
  }

  /** Waits until `bytes` are pending (`end`: the blob offset they reach, for the error). */
  private async fill(bytes: number, end: number): Promise<void> {
    const s = this.stream!;
    while (this.pendingBytes < bytes) {
      if (this.failed) throw this.failed;
      if (s !== this.stream) throw new Error(`blob ${this.digest}: reader closed`);
      if (this.ended) throw notFound(`blob ${this.digest} ended at ${this.position + this.pendingBytes} bytes, before ${end}`);
      this.want = bytes;
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      s.resume();
      await arrived;
      this.wake = undefined;
    }
  }

  private async reopen(): Promise<void> {
    this.close();
    this.position = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.ended = false;
    this.failed = undefined;
    const s = (this.stream = await this.content.read(this.ctx, this.digest));
    s.pause();
    s.on('data', (chunk: Buffer) => {
      if (s !== this.stream) return;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes >= this.want) {
        s.pause();
        this.wake?.();
      }
    });
    s.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    s.on('error', (e: Error) => {
      this.failed = e;
      this.wake?.();
    });
  }
}
