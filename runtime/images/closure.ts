/**
 * What of an image can leave this daemon (push, save): the index with every
 * manifest it lists when all of them and their blobs are stored here, else
 * the image's own platform manifest — a pull keeps one platform, so an index
 * whose other platforms were never fetched cannot be sent whole (Docker,
 * without the containerd image store, sends the platform manifest the same
 * way). `platform` asks for one manifest explicitly.
 */
import type { Ctx } from '../context';
import type { Store } from '../content/content';
import { isNotFound, notFound } from '../errdefs/errdefs';
import { isIndex, MAX_MANIFEST_BYTES, type Descriptor, type Platform } from '../oci/descriptor';
import { parseIndex, parseManifest } from '../oci/manifest';
import type { Image } from './images';
import { formatPlatform, matches, selectManifest } from './platform';

export interface ImageClosure {
  /** What the name points at once sent: the index, or one manifest. */
  readonly top: Descriptor;
  /** The manifests to send (one, or every one the index lists). */
  readonly manifests: Descriptor[];
}

export async function imageClosure(ctx: Ctx, content: Store, image: Image, platform?: Platform): Promise<ImageClosure> {
  if (!isIndex(image.target.mediaType)) {
    if (platform && !matches(platform, image.platform)) {
      throw notFound(`${image.name} is ${formatPlatform(image.platform)}, not ${formatPlatform(platform)}`);
    }
    return { top: image.target, manifests: [image.target] };
  }
  const index = parseIndex(await content.readAll(ctx, image.target.digest, MAX_MANIFEST_BYTES), image.target.mediaType);
  if (platform) {
    const present: Descriptor[] = [];
    for (const m of index.manifests) if (await isComplete(ctx, content, m)) present.push(m);
    const chosen = selectManifest(present, platform);
    if (!chosen) throw notFound(`${image.name} has no stored image for ${formatPlatform(platform)}`);
    return { top: chosen, manifests: [chosen] };
  }
  const complete = await Promise.all(index.manifests.map((m) => isComplete(ctx, content, m)));
  if (index.manifests.length > 0 && complete.every(Boolean)) return { top: image.target, manifests: index.manifests };
  return { top: image.manifest, manifests: [image.manifest] };
}

/** Whether a manifest and every blob it names are stored here. */
export async function isComplete(ctx: Ctx, content: Store, desc: Descriptor): Promise<boolean> {
  try {
    const m = parseManifest(await content.readAll(ctx, desc.digest, MAX_MANIFEST_BYTES), desc.mediaType);
    for (const b of [m.config, ...m.layers]) await content.info(ctx, b.digest);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}
