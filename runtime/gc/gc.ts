/**
 * Garbage collection of content: mark and sweep.
 *
 * Roots are everything that must survive: the targets of image records plus
 * every digest under an active *lease*. Containers add no content roots: a
 * container copies the image config it needs into its own record, and the
 * image service will not remove an image a container uses unless forced
 * (ImageUsage in images/images.ts).
 *
 * A pull takes a lease before it fetches anything and adds each digest to it
 * before writing, so a collection running mid-pull never deletes what the
 * pull has fetched but not yet recorded. Leases live in memory: a pull does
 * not outlive the daemon.
 *
 * Mark follows references inside content: index → manifests present in the
 * store → config and layers. Sweep deletes every committed blob not marked.
 *
 * Snapshots are collected the same way: roots are the snapshots images name
 * (a layer chain's top), the ChainIDs under a lease (a pull's layers before
 * its image record exists) and whatever an active snapshot stands on — that
 * is how a container keeps its image's layers: its `container-<id>` snapshot
 * is active, prepared on the image's top ChainID. Marking follows parents,
 * and every committed snapshot not marked is removed, children before
 * parents. Active snapshots themselves belong to someone (a container, a
 * running extraction) and are never collected here; a container's goes when
 * the container is removed.
 * Collections are serialised; a removal that triggers one returns once it is done.
 */
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import { isInvalidArgument, isNotFound } from '../errdefs/errdefs';
import { isIndex, isManifest, MAX_MANIFEST_BYTES, type Descriptor } from '../oci/descriptor';
import { parseIndex, parseManifest } from '../oci/manifest';
import type { Info as SnapshotInfo, Snapshotter } from '../snapshots/snapshots';

export interface Lease {
  /** Protects a digest until the lease is released. */
  add(digest: string): void;
  release(): void;
}

/** Supplies root descriptors (today: the targets of image records). */
export type RootSource = () => Iterable<Descriptor>;

/** Supplies the names of snapshots that must survive. */
export type SnapshotRootSource = () => Iterable<string>;

export interface CollectResult {
  readonly removed: number;
  readonly reclaimedBytes: number;
  readonly removedSnapshots: number;
}

export class Collector {
  private readonly leases = new Set<Set<string>>();
  private readonly roots: RootSource[] = [];
  private readonly snapshotRoots: SnapshotRootSource[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly snapshotter?: Snapshotter,
  ) {}

  addRoots(source: RootSource): void {
    this.roots.push(source);
  }

  addSnapshotRoots(source: SnapshotRootSource): void {
    this.snapshotRoots.push(source);
  }

  lease(): Lease {
    const digests = new Set<string>();
    this.leases.add(digests);
    return {
      add: (digest) => void digests.add(digest),
      release: () => void this.leases.delete(digests),
    };
  }

  /** Runs a collection after any running one; resolves with what it removed. */
  collect(ctx: Ctx): Promise<CollectResult> {
    const run = this.running.catch(() => undefined).then(() => this.markAndSweep(ctx));
    this.running = run;
    return run;
  }

  private async markAndSweep(ctx: Ctx): Promise<CollectResult> {
    const marked = new Set<string>();
    for (const lease of this.leases) for (const digest of lease) marked.add(digest);
    for (const source of this.roots) {
      for (const root of source()) await this.mark(ctx, root, marked);
    }
    let removed = 0;
    let reclaimedBytes = 0;
    const unmarked: Array<{ digest: string; size: number }> = [];
    await this.store.walk(ctx, (info) => {
      if (!marked.has(info.digest)) unmarked.push({ digest: info.digest, size: info.size });
    });
    for (const blob of unmarked) {
      // A lease may have been taken while we walked.
      if ([...this.leases].some((l) => l.has(blob.digest))) continue;
      try {
        await this.store.delete(ctx, blob.digest);
        removed++;
        reclaimedBytes += blob.size;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const removedSnapshots = this.snapshotter ? await this.sweepSnapshots(ctx, this.snapshotter) : 0;
    return { removed, reclaimedBytes, removedSnapshots };
  }

  private async sweepSnapshots(ctx: Ctx, snapshotter: Snapshotter): Promise<number> {
    const all = new Map<string, SnapshotInfo>();
    await snapshotter.walk(ctx, (info) => void all.set(info.name, info));
    const marked = new Set<string>();
    const keep = (name: string) => {
      for (let at: string | undefined = name; at && !marked.has(at); at = all.get(at)?.parent) marked.add(at);
    };
    for (const source of this.snapshotRoots) for (const name of source()) keep(name);
    // A pull leases the ChainIDs it unpacks: its snapshots are not named by an image yet.
    for (const lease of this.leases) for (const name of lease) if (all.has(name)) keep(name);
    // Whatever an active snapshot (a container, an extraction) stands on stays.
    for (const info of all.values()) if (info.kind !== 'committed') keep(info.name);
    let removed = 0;
    // Children before parents: repeatedly remove unmarked snapshots nobody stands on.
    for (let progress = true; progress;) {
      progress = false;
      const parents = new Set([...all.values()].map((i) => i.parent).filter(Boolean));
      for (const info of [...all.values()]) {
        if (marked.has(info.name) || parents.has(info.name)) continue;
        await snapshotter.remove(ctx, info.name);
        all.delete(info.name);
        removed++;
        progress = true;
      }
    }
    return removed;
  }

  private async mark(ctx: Ctx, desc: Descriptor, marked: Set<string>): Promise<void> {
    if (marked.has(desc.digest)) return;
    marked.add(desc.digest);
    if (!isIndex(desc.mediaType) && !isManifest(desc.mediaType)) return;
    let bytes: Buffer;
    try {
      bytes = await this.store.readAll(ctx, desc.digest, MAX_MANIFEST_BYTES);
    } catch (e) {
      if (isNotFound(e)) return; // an index entry for a platform we never pulled
      throw e;
    }
    let children: Descriptor[];
    try {
      if (isIndex(desc.mediaType)) {
        children = parseIndex(bytes, desc.mediaType).manifests;
      } else {
        const manifest = parseManifest(bytes, desc.mediaType);
        children = [manifest.config, ...manifest.layers];
      }
    } catch (e) {
      if (isInvalidArgument(e)) return; // unreadable: it references nothing we could know of
      throw e;
    }
    for (const child of children) await this.mark(ctx, child, marked);
  }
}
