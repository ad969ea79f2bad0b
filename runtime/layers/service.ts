/**
 * The layer service: an image's layers joined with its history, each
 * layer's size and changes, and the tree up to a layer for the files
 * service (layers.ts defines the terms; docs/layers.md).
 *
 * Where a layer's entries come from:
 * - overlayfs with the image unpacked: the layer snapshot's own directory
 *   (no decompression; whiteouts are 0/0 devices, opaque dirs an xattr),
 *   and the tree below is the stack of the lower layers' directories;
 * - otherwise (native snapshotter, an image not unpacked): the layer blob
 *   from the content store, read as a tar, and the tree below is the parent
 *   snapshot's full copy (native) or the lower tars merged in memory.
 * Entries are kept per snapshot/blob for the daemon's life (layers never
 * change once committed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import { invalidArgument, isNotFound } from '../errdefs/errdefs';
import type { FileRoot, FileTarget } from '../files/containerFiles';
import type { ImageDetails } from '../images/service';
import { chainIds } from '../images/unpacker';
import { isMountPoint, mount, unmount } from '../mount/mounter';
import { shortId } from '../presentation';
import type { LocalSnapshotter } from '../snapshots/local';
import { overlayMounts } from '../snapshots/overlay';
import { compressionOf, decompress } from '../unpack/decompress';
import { layerChanges, layerSize, mergedTree } from './changes';
import type { LayerChange, LayerEntry, LowerTree } from './layers';
import { FullTree, OverlayStack, opaqueDirs, snapshotEntries } from './snapshotDirs';
import { tarEntries } from './tarEntries';

export interface ImageLayer {
  readonly index: number;
  readonly diffId: string;
  readonly digest: string;
  readonly compressedSize: number;
  readonly mediaType: string;
  readonly size: number;
  readonly chainId: string;
  readonly created: string;
  readonly createdBy: string;
  readonly comment: string;
  readonly author: string;
}

export interface HistoryItem {
  readonly created: string;
  readonly createdBy: string;
  readonly author: string;
  readonly comment: string;
  readonly emptyLayer: boolean;
  readonly size: number;
  /** The image ID on the newest entry, '' on the others. */
  readonly id: string;
  /** -1 for an empty_layer entry. */
  readonly layerIndex: number;
}

export type EntrySource = 'snapshot' | 'tar';

export interface LayerServiceDeps {
  inspect(ctx: Ctx, image: string): Promise<ImageDetails>;
  readonly content: Store;
  readonly snapshotter: LocalSnapshotter;
  /** Where merged views of overlay layers are mounted for file calls. */
  readonly mountDir: string;
}

interface Resolved {
  readonly details: ImageDetails;
  readonly chains: string[];
  /** Overlay dirs of every layer when the image is unpacked on overlayfs. */
  readonly overlayDirs?: string[];
  /** Full trees per layer when it is unpacked on the native snapshotter. */
  readonly nativeDirs?: string[];
}

export class LayerService {
  private readonly entries = new Map<string, Promise<{ entries: LayerEntry[]; source: EntrySource }>>();
  private readonly opaque = new Map<string, Promise<Set<string>>>();

  constructor(private readonly deps: LayerServiceDeps) {}

  /** Start-up: merged views a previous daemon left mounted are unmounted and removed. */
  async cleanup(): Promise<void> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.deps.mountDir);
    } catch {
      return;
    }
    for (const name of names) {
      const dir = path.join(this.deps.mountDir, name);
      if (await isMountPoint(dir).catch(() => false)) await unmount(dir).catch(() => undefined);
      await fs.promises.rmdir(dir).catch(() => undefined);
    }
  }

  private async resolve(ctx: Ctx, image: string): Promise<Resolved> {
    const details = await this.deps.inspect(ctx, image);
    const diffIds = details.config.rootfs.diff_ids;
    if (diffIds.length !== details.manifest.layers.length) {
      throw invalidArgument(`image ${image}: ${details.manifest.layers.length} layers but ${diffIds.length} diff IDs`);
    }
    const chains = chainIds(diffIds);
    const snap = this.deps.snapshotter;
    const unpacked = details.image.snapshot?.snapshotter === snap.name ? this.dirsOf(chains) : undefined;
    if (!unpacked) return { details, chains };
    return snap.name === 'overlayfs' ? { details, chains, overlayDirs: unpacked } : { details, chains, nativeDirs: unpacked };
  }

  private dirsOf(chains: readonly string[]): string[] | undefined {
    try {
      return chains.map((c) => this.deps.snapshotter.committedDir(c));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private opaqueOf(ctx: Ctx, dir: string): Promise<Set<string>> {
    let p = this.opaque.get(dir);
    if (!p) {
      p = opaqueDirs(dir, ctx.signal);
      p.catch(() => this.opaque.delete(dir));
      this.opaque.set(dir, p);
    }
    return p;
  }

  private entriesOf(ctx: Ctx, r: Resolved, index: number): Promise<{ entries: LayerEntry[]; source: EntrySource }> {
    const dir = r.overlayDirs?.[index];
    const layer = r.details.manifest.layers[index];
    const key = dir ? `dir:${dir}` : `blob:${layer.digest}`;
    let p = this.entries.get(key);
    if (!p) {
      p = dir
        ? (async () => ({ entries: await snapshotEntries(dir, await this.opaqueOf(ctx, dir), ctx.signal), source: 'snapshot' as const }))()
        : (async () => {
            const blob = await this.deps.content.read(ctx, layer.digest);
            try {
              return { entries: await tarEntries(decompress(blob, compressionOf(layer.mediaType))), source: 'tar' as const };
            } finally {
              blob.destroy();
            }
          })();
      p.catch(() => this.entries.delete(key));
      this.entries.set(key, p);
    }
    return p;
  }

  private async below(ctx: Ctx, r: Resolved, index: number): Promise<LowerTree> {
    if (r.overlayDirs) {
      const dirs = r.overlayDirs.slice(0, index).reverse();
      return new OverlayStack(await Promise.all(dirs.map(async (dir) => ({ dir, opaque: await this.opaqueOf(ctx, dir) }))));
    }
    if (r.nativeDirs) return index === 0 ? mergedTree([]) : new FullTree(r.nativeDirs[index - 1]);
    const lower: LayerEntry[][] = [];
    for (let i = 0; i < index; i++) lower.push((await this.entriesOf(ctx, r, i)).entries);
    return mergedTree(lower);
  }

  /** The image's layers, bottom first, with sizes and the history entries that made them. */
  async layers(ctx: Ctx, image: string): Promise<{ id: string; layers: ImageLayer[] }> {
    const r = await this.resolve(ctx, image);
    const out: ImageLayer[] = [];
    for (let i = 0; i < r.chains.length; i++) out.push(await this.layerOf(ctx, r, i));
    return { id: r.details.image.id, layers: out };
  }

  private async layerOf(ctx: Ctx, r: Resolved, index: number): Promise<ImageLayer> {
    const made = (r.details.config.history ?? []).filter((h) => !h.empty_layer);
    // Docker pairs the non-empty history entries with the layers in order; an image with fewer entries leaves the rest blank.
    const h = made.length === r.chains.length ? made[index] : undefined;
    const desc = r.details.manifest.layers[index];
    return {
      index,
      diffId: r.details.config.rootfs.diff_ids[index],
      digest: desc.digest,
      compressedSize: desc.size,
      mediaType: desc.mediaType,
      size: layerSize((await this.entriesOf(ctx, r, index)).entries),
      chainId: r.chains[index],
      created: h?.created ?? '',
      createdBy: h?.created_by ?? '',
      comment: h?.comment ?? '',
      author: h?.author ?? '',
    };
  }

  /** `docker history`: the config's history newest first, each with its layer's size. */
  async history(ctx: Ctx, image: string): Promise<HistoryItem[]> {
    const r = await this.resolve(ctx, image);
    const history = r.details.config.history ?? [];
    const items: HistoryItem[] = [];
    let layer = 0;
    if (history.length === 0) {
      // No history: one line per layer, as Docker shows it.
      for (let i = 0; i < r.chains.length; i++) {
        const size = layerSize((await this.entriesOf(ctx, r, i)).entries);
        items.push({ created: '', createdBy: '', author: '', comment: '', emptyLayer: false, size, id: '', layerIndex: i });
      }
    }
    for (const h of history) {
      const empty = h.empty_layer === true || layer >= r.chains.length;
      const size = empty ? 0 : layerSize((await this.entriesOf(ctx, r, layer)).entries);
      items.push({
        created: h.created ?? '',
        createdBy: h.created_by ?? '',
        author: h.author ?? '',
        comment: h.comment ?? '',
        emptyLayer: empty,
        size,
        id: '',
        layerIndex: empty ? -1 : layer,
      });
      if (!empty) layer++;
    }
    items.reverse();
    if (items.length) items[0] = { ...items[0], id: r.details.image.id };
    return items;
  }

  /** What layer `index` added, changed and deleted. */
  async changes(ctx: Ctx, image: string, index: number): Promise<{ layer: ImageLayer; changes: LayerChange[]; source: EntrySource }> {
    const r = await this.resolve(ctx, image);
    checkIndex(r, index, image);
    const { entries, source } = await this.entriesOf(ctx, r, index);
    const changes = await layerChanges(entries, await this.below(ctx, r, index));
    return { layer: await this.layerOf(ctx, r, index), changes, source };
  }

  /**
   * The image's tree up to layer `index`, read-only, for the files service:
   * native: the layer snapshot's own full copy; overlay: the bottom layer's
   * directory, or the layer dirs stacked by a read-only overlay mount (no
   * upper dir), unmounted when the call releases it.
   */
  async rootOf(ctx: Ctx, target: FileTarget): Promise<FileRoot> {
    const t = target.layer;
    if (!t?.image) throw invalidArgument('no image named: whose layer?');
    const r = await this.resolve(ctx, t.image);
    checkIndex(r, t.index, t.image);
    const description = `layer ${t.index} of image ${r.details.image.name || shortId(r.details.image.id)}`;
    const owner = { uid: 0, gid: 0 };
    const base = { description, owner, readOnly: true };
    if (r.nativeDirs) return { ...base, path: r.nativeDirs[t.index], release: async () => undefined };
    if (!r.overlayDirs) throw invalidArgument(`image ${t.image} is not unpacked here, so its layers' files cannot be read`);
    if (t.index === 0) return { ...base, path: r.overlayDirs[0], release: async () => undefined };
    await fs.promises.mkdir(this.deps.mountDir, { recursive: true, mode: 0o700 });
    const target_ = path.join(this.deps.mountDir, randomBytes(8).toString('hex'));
    await fs.promises.mkdir(target_, { mode: 0o700 });
    const lowers = r.overlayDirs.slice(0, t.index + 1).reverse();
    try {
      await mount(overlayMounts('view', { fs: '', work: '' }, lowers), target_);
    } catch (e) {
      await fs.promises.rmdir(target_).catch(() => undefined);
      throw e;
    }
    return {
      ...base,
      path: target_,
      mountedForCall: true,
      release: async () => {
        await unmount(target_);
        await fs.promises.rmdir(target_);
      },
    };
  }
}

function checkIndex(r: Resolved, index: number, image: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= r.chains.length) {
    throw invalidArgument(`image ${image} has ${r.chains.length} layers (0 to ${r.chains.length - 1}); there is no layer ${index}`);
  }
}
