/**
 * A container's changes as the API serves them (diff, export, commit),
 * joining changes.ts to the container and image sides: which snapshot to read and what lies below it (a transient
 * read-only view of the parent, removed after the call and at start-up),
 * the container's mount points (from its bundle's config.json), pausing a
 * running container while `commit` reads it, and the new image.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { exportTar, layerTar, listChanges, type Change, type ChangeTrees } from './changes';
import { commitRunConfig } from '../containers/commitConfig';
import type { Container } from '../containers/containers';
import { failedPrecondition, isNotFound } from '../errdefs/errdefs';
import { commitImage } from '../images/commit';
import type { Image } from '../images/images';
import type { NewImageDeps } from '../images/newImage';
import type { ImageDetails, ImageService } from '../images/service';
import type { Snapshotter } from '../snapshots/snapshots';
import type { Logger } from '../util/log';

/** Key prefix of the parent views made for a call; the snapshotter removes leftovers at start-up. */
export const CHANGES_VIEW_PREFIX = 'changes-view-';

/** Mount points the runtime makes in every container (specgen's defaults and etc files). */
const DEFAULT_MOUNTPOINTS = ['/proc', '/dev', '/sys', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf'];

export interface ContainerChangesDeps {
  resolve(ref: string): Container;
  readonly snapshotter: Snapshotter;
  bundleOf(id: string): string;
  /** Where multi-layer trees are mounted during a call. */
  readonly scratch: string;
  pause(ctx: Ctx, id: string): Promise<void>;
  unpause(ctx: Ctx, id: string): Promise<void>;
  readonly images: ImageService;
  readonly newImage: NewImageDeps;
  readonly log: Logger;
}

export interface CommitRequest {
  readonly container: string;
  readonly reference: string;
  readonly comment: string;
  readonly author: string;
  readonly changes: readonly string[];
  readonly pause: boolean;
}

export class ContainerChanges {
  constructor(private readonly deps: ContainerChangesDeps) {}

  async diff(ctx: Ctx, ref: string): Promise<Change[]> {
    const c = this.deps.resolve(ref);
    return this.withTrees(ctx, c, async (trees) => listChanges(ctx, trees, await this.options(c)));
  }

  /** The container's merged tree as a tar stream. */
  async *export(ctx: Ctx, ref: string): AsyncGenerator<Buffer> {
    const c = this.deps.resolve(ref);
    const active = await this.deps.snapshotter.mounts(ctx, c.snapshotKey);
    yield* exportTar(ctx, active, this.deps.scratch);
  }

  async commit(ctx: Ctx, request: CommitRequest): Promise<Image> {
    const c = this.deps.resolve(request.container);
    let base: ImageDetails;
    try {
      base = await this.deps.images.inspect(ctx, c.imageId);
    } catch (e) {
      if (isNotFound(e)) throw failedPrecondition(`cannot commit ${c.name}: its image ${c.imageName} is no longer stored`);
      throw e;
    }
    const pausing = request.pause && c.state.status === 'running';
    if (pausing) await this.deps.pause(ctx, c.id);
    let paused = pausing;
    const resume = async () => {
      if (!paused) return;
      paused = false;
      await this.deps.unpause(ctx, c.id).catch((e: unknown) => this.deps.log.warn('commit: unpausing failed', { id: c.id, error: e }));
    };
    try {
      const options = await this.options(c);
      return await this.withTrees(ctx, c, async (trees) => {
        // The container runs again as soon as its files are read, before the layer is unpacked.
        async function* layer(): AsyncGenerator<Buffer> {
          try {
            yield* layerTar(ctx, trees, options);
          } finally {
            await resume();
          }
        }
        return commitImage(ctx, this.deps.newImage, {
          base,
          runConfig: commitRunConfig(c),
          layer: layer(),
          createdBy: c.args.join(' '),
          reference: request.reference,
          comment: request.comment,
          author: request.author,
          changes: request.changes,
        });
      });
    } finally {
      await resume();
    }
  }

  private async withTrees<T>(ctx: Ctx, c: Container, fn: (trees: ChangeTrees) => Promise<T>): Promise<T> {
    const { snapshotter } = this.deps;
    const info = await snapshotter.stat(ctx, c.snapshotKey);
    const active = await snapshotter.mounts(ctx, c.snapshotKey);
    if (!info.parent) return fn({ active });
    const key = `${CHANGES_VIEW_PREFIX}${randomBytes(8).toString('hex')}`;
    const below = await snapshotter.view(ctx, key, info.parent);
    try {
      return await fn({ active, below });
    } finally {
      await snapshotter.remove(ctx, key).catch((e: unknown) => this.deps.log.warn('removing a changes view failed', { key, error: e }));
    }
  }

  private async options(c: Container): Promise<{ scratch: string; mountpoints: string[] }> {
    let mountpoints = [...DEFAULT_MOUNTPOINTS, ...c.config.mounts.map((m) => m.destination), ...c.config.tmpfs.map((t) => t.destination)];
    try {
      const spec = JSON.parse(await fs.promises.readFile(path.join(this.deps.bundleOf(c.id), 'config.json'), 'utf8')) as {
        mounts?: { destination?: string }[];
      };
      mountpoints = [...mountpoints, ...(spec.mounts ?? []).flatMap((m) => (m.destination ? [m.destination] : []))];
    } catch {
      // No bundle yet: the defaults and the configured mounts.
    }
    return { scratch: this.deps.scratch, mountpoints };
  }
}
