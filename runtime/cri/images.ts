/**
 * The CRI ImageService over gantryd's image store (cri.ts explains the
 * mapping): records grouped by image ID, pull through the one Puller,
 * removal name by name through ImageService so containers that use an
 * image keep it, and the usage of the content and snapshot trees.
 */
import type { Ctx } from '../context';
import { invalidArgument, isNotFound } from '../errdefs/errdefs';
import { isUntagged, repositoryOf, type Image as StoredImage } from '../images/images';
import type { HandlerAdapter } from '../api/server';
import type { Logger } from '../util/log';
import type { CriImageDeps } from './cri';
import { credentialsOf } from './auth';
import { treeUsage } from './fsUsage';
import type { Image, ImageServiceServer, ImageSpec } from './gen/runtime/v1/api';

/** The records of one image ID, in name order. */
function byId(records: readonly StoredImage[]): Map<string, StoredImage[]> {
  const groups = new Map<string, StoredImage[]>();
  for (const r of records) groups.set(r.id, [...(groups.get(r.id) ?? []), r]);
  return groups;
}

/** The image's user, as the CRI wants it: a numeric uid, or else a name. */
export function userOf(configUser: string | undefined): { uid?: number; username: string } {
  const user = (configUser ?? '').split(':')[0];
  if (user === '') return { username: '' };
  if (/^\d+$/.test(user)) return { uid: Number(user), username: '' };
  return { username: user };
}

export class CriImages {
  constructor(private readonly deps: CriImageDeps) {}

  /** One CRI Image for the records sharing an image ID. */
  private async toCri(ctx: Ctx, records: readonly StoredImage[]): Promise<Image> {
    const first = records[0];
    const details = await this.deps.images.inspect(ctx, first.id);
    const user = userOf(details.config.config?.User);
    const repoDigests = [...new Set(records.map((r) => `${repositoryOf(r.name)}@${r.target.digest}`))].sort();
    return {
      id: first.id,
      repoTags: records.filter((r) => !isUntagged(r.name)).map((r) => r.name),
      repoDigests,
      size: BigInt(Math.max(first.size, 1)),
      uid: user.uid === undefined ? undefined : { value: BigInt(user.uid) },
      username: user.username,
      spec: { image: first.id, annotations: {}, userSpecifiedImage: '', runtimeHandler: '' },
      pinned: false,
    };
  }

  /** The records of the image `spec` names (by name, ID or digest), or none. */
  private find(spec: ImageSpec | undefined): StoredImage[] {
    const wanted = spec?.image ?? '';
    if (!wanted) throw invalidArgument('ImageSpec.image is empty');
    try {
      const image = this.deps.images.resolve(wanted);
      return this.deps.images.list().filter((r) => r.id === image.id);
    } catch (e) {
      if (isNotFound(e)) return []; // resolve() answers NotFound for names that do not parse, too
      throw e;
    }
  }

  async list(ctx: Ctx, filter: ImageSpec | undefined): Promise<Image[]> {
    const groups = filter?.image ? byId(this.find(filter)) : byId(this.deps.images.list());
    const out: Image[] = [];
    for (const records of groups.values()) {
      try {
        out.push(await this.toCri(ctx, records));
      } catch (e) {
        if (!isNotFound(e)) throw e; // removed while we listed: not listed
      }
    }
    return out;
  }

  async status(
    ctx: Ctx,
    spec: ImageSpec | undefined,
    verbose: boolean,
  ): Promise<{ image: Image | undefined; info: Record<string, string> }> {
    const records = this.find(spec);
    if (!records.length) return { image: undefined, info: {} };
    const image = await this.toCri(ctx, records);
    if (!verbose) return { image, info: {} };
    const details = await this.deps.images.inspect(ctx, records[0].id);
    const first = records[0];
    const info = {
      id: first.id,
      names: records.map((r) => r.name),
      target: first.target,
      manifest: first.manifest,
      platform: first.platform,
      snapshotter: first.snapshot?.snapshotter ?? '',
      chainID: first.snapshot?.chainId ?? '',
      imageSpec: JSON.parse(details.configJson) as unknown,
    };
    return { image, info: { info: JSON.stringify(info) } };
  }

  /** Pulls (or finds already present) and answers the image ID. */
  async pull(ctx: Ctx, spec: ImageSpec | undefined, credentials: ReturnType<typeof credentialsOf>): Promise<string> {
    const reference = spec?.image ?? '';
    if (!reference) throw invalidArgument('PullImage needs ImageSpec.image');
    const image = await this.deps.puller.pull(ctx, reference, { credentials });
    return image.id;
  }

  /** Removes every name of the image; an absent image is already removed. */
  async remove(ctx: Ctx, spec: ImageSpec | undefined): Promise<void> {
    for (const record of this.find(spec)) {
      try {
        await this.deps.images.remove(ctx, record.name, false);
      } catch (e) {
        if (!isNotFound(e)) throw e; // removed concurrently: fine
      }
    }
  }

  async fsInfo(): Promise<{ usedBytes: number; inodesUsed: number; mountpoint: string; timestamp: bigint }> {
    const usage = await treeUsage(this.deps.imageFsDirs);
    return { ...usage, mountpoint: this.deps.imageFsMountpoint, timestamp: BigInt(Date.now()) * BigInt(1_000_000) };
  }
}

export function criImageService(adapt: HandlerAdapter, deps: CriImageDeps, log: Logger): ImageServiceServer {
  const images = new CriImages(deps);
  return {
    listImages: adapt.unary('cri.ListImages', async (ctx, request) => ({ images: await images.list(ctx, request.filter?.image) })),
    imageStatus: adapt.unary('cri.ImageStatus', async (ctx, request) => images.status(ctx, request.image, request.verbose)),
    pullImage: adapt.unary('cri.PullImage', async (ctx, request) => {
      const pod = request.sandboxConfig?.metadata;
      // The sandbox config only tells whose pull this is; the pull is the same for every pod.
      log.info('CRI pull', {
        image: request.image?.image,
        pod: pod ? `${pod.namespace}/${pod.name}` : undefined,
        authenticated: Boolean(credentialsOf(request.auth)),
      });
      return { imageRef: await images.pull(ctx, request.image, credentialsOf(request.auth)) };
    }),
    removeImage: adapt.unary('cri.RemoveImage', async (ctx, request) => {
      await images.remove(ctx, request.image);
      return {};
    }),
    imageFsInfo: adapt.unary('cri.ImageFsInfo', async () => {
      const fs = await images.fsInfo();
      return {
        imageFilesystems: [
          {
            timestamp: fs.timestamp,
            fsId: { mountpoint: fs.mountpoint },
            usedBytes: { value: BigInt(fs.usedBytes) },
            inodesUsed: { value: BigInt(fs.inodesUsed) },
          },
        ],
        containerFilesystems: [],
      };
    }),
  };
}
