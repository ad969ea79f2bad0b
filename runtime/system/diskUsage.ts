/**
 * Disk usage as `docker system df` reports it, computed from the daemon's
 * own records (docs/cli.md, "system df and prune").
 *
 * Terms
 * - A *layer* is a committed snapshot of an unpacked image (named by its
 *   ChainID, parent = the layer below). Its size is the snapshotter's usage
 *   of that snapshot alone, so a layer two images share is counted once.
 * - An *image* is an image ID (config digest); several names may point at
 *   it. Its size is the sum of its layers; its shared size the part of that
 *   in layers another image ID also uses. An image never unpacked here
 *   counts its stored (compressed) size as one layer of its own.
 * - A container's size is its writable layer (its active snapshot's own
 *   usage), not the image below it.
 * - Volumes come from a VolumeUsageSource the daemon passes in, so this
 *   file does not depend on how volumes are stored.
 */
import type { Ctx } from '../context';
import type { Container, ContainerStatus } from '../containers/containers';
import { isNotFound } from '../errdefs/errdefs';
import type { Image } from '../images/images';
import type { Snapshotter } from '../snapshots/snapshots';

export interface VolumeUsage {
  readonly name: string;
  readonly driver: string;
  /** Bytes under the volume; -1 when not known. */
  readonly size: number;
  /** Containers that mount it. */
  readonly links: number;
}

/** Where volume sizes come from (the volume store, wired in daemon.ts). */
export interface VolumeUsageSource {
  list(ctx: Ctx): Promise<VolumeUsage[]>;
}

/** No volumes: what the daemon passes until a volume store provides usage. */
export const NO_VOLUMES: VolumeUsageSource = { list: () => Promise.resolve([]) };

export interface ImageUsage {
  readonly id: string;
  readonly names: string[];
  readonly created: string;
  readonly digest: string;
  readonly size: number;
  readonly sharedSize: number;
  readonly containers: number;
}

export interface ContainerUsage {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly command: readonly string[];
  readonly status: ContainerStatus;
  readonly exitCode: number;
  readonly createdAt: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly size: number;
  readonly localVolumes: number;
}

export interface DiskUsage {
  readonly images: ImageUsage[];
  readonly containers: ContainerUsage[];
  readonly volumes: VolumeUsage[];
  /** Every distinct layer counted once. */
  readonly layersSize: number;
}

export interface DiskUsageSources {
  readonly images: { list(): Image[] };
  readonly containers: { list(): Container[] };
  readonly snapshotter: Pick<Snapshotter, 'name' | 'stat' | 'usage'>;
  readonly volumes: VolumeUsageSource;
}

/** A snapshot's own bytes; 0 for one that is gone (removed while we looked). */
async function ownSize(ctx: Ctx, snapshotter: DiskUsageSources['snapshotter'], key: string): Promise<number> {
  try {
    return (await snapshotter.usage(ctx, key)).size;
  } catch (e) {
    if (isNotFound(e)) return 0;
    throw e;
  }
}

export async function diskUsage(ctx: Ctx, sources: DiskUsageSources): Promise<DiskUsage> {
  const { snapshotter } = sources;
  const layerSize = new Map<string, number>();
  const parentOf = new Map<string, string>();

  /** The layer names of an image from the top down, each layer's size looked up once. */
  async function chain(top: string): Promise<string[]> {
    const names: string[] = [];
    for (let name = top; name && !names.includes(name);) {
      names.push(name);
      if (!parentOf.has(name)) {
        try {
          parentOf.set(name, (await snapshotter.stat(ctx, name)).parent);
          layerSize.set(name, await ownSize(ctx, snapshotter, name));
        } catch (e) {
          if (!isNotFound(e)) throw e;
          parentOf.set(name, '');
          layerSize.set(name, 0);
        }
      }
      name = parentOf.get(name) ?? '';
    }
    return names;
  }

  // One entry per image ID, in the order the store lists names.
  const byId = new Map<string, { records: Image[]; layers: string[] }>();
  for (const image of sources.images.list()) {
    const entry = byId.get(image.id);
    if (entry) {
      entry.records.push(image);
      continue;
    }
    let layers: string[];
    if (image.snapshot && image.snapshot.snapshotter === snapshotter.name) layers = await chain(image.snapshot.chainId);
    else {
      // Not unpacked here: its stored bytes stand for it, as a layer of its own.
      const pseudo = `stored:${image.id}`;
      layerSize.set(pseudo, image.size);
      layers = [pseudo];
    }
    byId.set(image.id, { records: [image], layers });
  }

  const users = new Map<string, number>();
  for (const { layers } of byId.values()) for (const l of layers) users.set(l, (users.get(l) ?? 0) + 1);

  const containers = sources.containers.list();
  const containersOf = new Map<string, number>();
  for (const c of containers) containersOf.set(c.imageId, (containersOf.get(c.imageId) ?? 0) + 1);

  const images: ImageUsage[] = [...byId.entries()].map(([id, { records, layers }]) => {
    const sum = (ls: string[]) => ls.reduce((n, l) => n + (layerSize.get(l) ?? 0), 0);
    return {
      id,
      names: records.map((r) => r.name),
      created: records[0].created ?? '',
      digest: records[0].target.digest,
      size: sum(layers),
      sharedSize: sum(layers.filter((l) => (users.get(l) ?? 0) > 1)),
      containers: containersOf.get(id) ?? 0,
    };
  });
  let layersSize = 0;
  for (const l of users.keys()) layersSize += layerSize.get(l) ?? 0;

  const containerUsage: ContainerUsage[] = [];
  for (const c of containers) {
    containerUsage.push({
      id: c.id,
      name: c.name,
      image: c.config.image,
      command: c.args,
      status: c.state.status,
      exitCode: c.state.exitCode,
      createdAt: c.createdAt,
      startedAt: c.state.startedAt,
      finishedAt: c.state.finishedAt,
      size: c.snapshotter === snapshotter.name && c.snapshotKey ? await ownSize(ctx, snapshotter, c.snapshotKey) : 0,
      localVolumes: 0,
    });
  }

  return { images, containers: containerUsage, volumes: await sources.volumes.list(ctx), layersSize };
}
