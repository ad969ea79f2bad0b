/**
 * The image operations behind the API: lookup by name or ID, inspect, tag,
 * remove and prune. Pull lives in pull.ts. Every change publishes its event
 * and removals end with a garbage collection, so `rmi` frees disk at once.
 */
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import { parseReference } from '../distribution/reference';
import { shortId } from '../presentation';
import { conflict, invalidArgument, notFound } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import type { CollectResult, Collector } from '../gc/gc';
import { MAX_MANIFEST_BYTES } from '../oci/descriptor';
import { isUntagged, repositoryOf, type Image, type ImageStore, type ImageUsage } from './images';
import { parseConfig, parseManifest, type ImageConfig, type Manifest } from '../oci/manifest';
import { ImageTopics, putImage } from './records';

export interface ImageDetails {
  readonly image: Image;
  /** Every name (tag or digest reference) pointing at the same image ID. */
  readonly names: string[];
  readonly manifest: Manifest;
  readonly manifestJson: string;
  readonly config: ImageConfig;
  readonly configJson: string;
}

export interface RemoveResult {
  readonly untagged: string[];
  readonly deletedBlobs: number;
  readonly reclaimedBytes: number;
  readonly deletedSnapshots: number;
}

export class ImageService {
  constructor(
    private readonly content: Store,
    private readonly images: ImageStore,
    private readonly gc: Collector,
    private readonly events: Publisher,
    private readonly usage: ImageUsage,
  ) {}

  list(): Image[] {
    return this.images.list().sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Finds an image the way `docker` does: a name (normalised, `:latest`
   * implied), a full or short (≥ 4 hex) image ID, or `sha256:<id>`.
   */
  resolve(nameOrId: string): Image {
    const images = this.images.list();
    const id = /^(sha256:)?([a-f0-9]{4,64})$/.exec(nameOrId);
    if (id) {
      const matching = images.filter((i) => i.id.slice('sha256:'.length).startsWith(id[2]));
      const ids = new Set(matching.map((i) => i.id));
      if (ids.size > 1) throw conflict(`image ID prefix ${nameOrId} is ambiguous`);
      if (matching.length) return matching[0];
    }
    let name: string;
    try {
      const ref = parseReference(nameOrId);
      name = ref.digest && !ref.tag ? `${ref.name}@${ref.digest}` : `${ref.name}:${ref.tag}`;
      const byDigest = ref.digest ? images.find((i) => repositoryOf(i.name) === ref.name && i.target.digest === ref.digest) : undefined;
      if (byDigest) return byDigest;
    } catch {
      throw notFound(`no such image: ${nameOrId}`);
    }
    const image = this.images.get(name);
    if (!image) throw notFound(`no such image: ${nameOrId}`);
    return image;
  }

  async inspect(ctx: Ctx, nameOrId: string): Promise<ImageDetails> {
    const image = this.resolve(nameOrId);
    const manifestBytes = await this.content.readAll(ctx, image.manifest.digest, MAX_MANIFEST_BYTES);
    const manifest = parseManifest(manifestBytes, image.manifest.mediaType);
    const configBytes = await this.content.readAll(ctx, manifest.config.digest, 16 * 1024 * 1024);
    return {
      image,
      names: this.namesOf(image.id),
      manifest,
      manifestJson: manifestBytes.toString('utf8'),
      config: parseConfig(configBytes),
      configJson: configBytes.toString('utf8'),
    };
  }

  async tag(source: string, target: string): Promise<Image> {
    const image = this.resolve(source);
    const ref = parseReference(target);
    if (ref.digest) throw invalidArgument(`cannot tag with a digest reference: ${target}`);
    const now = new Date();
    return putImage(this.images, this.events, { ...image, name: `${ref.name}:${ref.tag}`, createdAt: now, updatedAt: now });
  }

  /**
   * `rmi`: by name removes that name; by ID removes the image's only name,
   * refusing when several names share it unless `force`. An image in use is
   * refused unless `force`.
   */
  async remove(ctx: Ctx, nameOrId: string, force: boolean): Promise<RemoveResult> {
    const image = this.resolve(nameOrId);
    const byId = /^(sha256:)?[a-f0-9]{4,64}$/.test(nameOrId) && !this.images.get(nameOrId);
    const names = byId ? this.namesOf(image.id) : [image.name];
    if (byId && names.length > 1 && !force) {
      throw conflict(
        `image ${shortId(image.id)} is referenced by ${names.length} names (${names.join(', ')}); remove them by name or use --force`,
      );
    }
    const lastName = this.namesOf(image.id).length === names.length;
    const users = lastName ? this.usage.usersOf(image.id) : [];
    if (users.length && !force) {
      throw conflict(`image ${nameOrId} is in use by container ${users.join(', ')}; stop and remove it first or use --force`);
    }
    for (const name of names) {
      await this.images.delete(name);
      this.events.publish(ImageTopics.delete, name, { digest: image.target.digest, id: image.id });
    }
    const collected = await this.gc.collect(ctx);
    return {
      untagged: names,
      deletedBlobs: collected.removed,
      reclaimedBytes: collected.reclaimedBytes,
      deletedSnapshots: collected.removedSnapshots,
    };
  }

  /** `image prune`: untagged images (all unused ones with `all`), then a collection. */
  async prune(ctx: Ctx, all: boolean): Promise<RemoveResult> {
    const untagged: string[] = [];
    for (const image of this.images.list()) {
      if (!all && !isUntagged(image.name)) continue;
      if (this.usage.usersOf(image.id).length) continue;
      await this.images.delete(image.name);
      this.events.publish(ImageTopics.delete, image.name, { digest: image.target.digest, id: image.id });
      untagged.push(image.name);
    }
    const collected: CollectResult = await this.gc.collect(ctx);
    return {
      untagged,
      deletedBlobs: collected.removed,
      reclaimedBytes: collected.reclaimedBytes,
      deletedSnapshots: collected.removedSnapshots,
    };
  }

  private namesOf(id: string): string[] {
    return this.images
      .list()
      .filter((i) => i.id === id)
      .map((i) => i.name)
      .sort();
  }
}
