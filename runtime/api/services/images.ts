/** gantry.v1.Images and gantry.v1.Registry over the image service, the puller and the registry client. */
import type { Registry as RegistryClient, RegistryAuth } from '../../distribution/distribution';
import { type Image, repositoryOf, tagOf } from '../../images/images';
import type { ImageConfig } from '../../oci/manifest';
import { parsePlatform } from '../../images/platform';
import type { PullProgress, Puller } from '../../images/pull';
import type { ImageService } from '../../images/service';
import { offeredPlatforms } from '../../images/resolve';
import { invalidArgument } from '../../errdefs/errdefs';
import type { Descriptor as OciDescriptor, Platform as OciPlatform } from '../../oci/descriptor';
import {
  BlobStatus,
  type Descriptor,
  type ImageRuntimeConfig,
  type ImagesServer,
  type ImageSummary,
  type Platform,
  type PullImageResponse,
  type RegistryAuth as WireAuth,
  type RegistryServer,
} from '../gen/gantry/v1/images';
import type { HandlerAdapter } from '../server';

const BLOB_STATUS: Record<string, BlobStatus> = {
  waiting: BlobStatus.BLOB_STATUS_WAITING,
  downloading: BlobStatus.BLOB_STATUS_DOWNLOADING,
  verifying: BlobStatus.BLOB_STATUS_VERIFYING,
  done: BlobStatus.BLOB_STATUS_DONE,
  exists: BlobStatus.BLOB_STATUS_EXISTS,
  extracting: BlobStatus.BLOB_STATUS_EXTRACTING,
  extracted: BlobStatus.BLOB_STATUS_EXTRACTED,
};

export function toPlatform(p: OciPlatform | undefined): Platform | undefined {
  return p ? { os: p.os, architecture: p.architecture, variant: p.variant ?? '' } : undefined;
}

export function toDescriptor(d: OciDescriptor): Descriptor {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, platform: toPlatform(d.platform), annotations: d.annotations ?? {} };
}

export function toSummary(image: Image): ImageSummary {
  return {
    name: image.name,
    repository: repositoryOf(image.name),
    tag: tagOf(image.name) ?? '',
    id: image.id,
    target: toDescriptor(image.target),
    manifest: toDescriptor(image.manifest),
    platform: toPlatform(image.platform),
    size: image.size,
    created: image.created ?? '',
    snapshotter: image.snapshot?.snapshotter ?? '',
    chainId: image.snapshot?.chainId ?? '',
    recordedAt: image.createdAt,
    labels: { ...image.labels },
  };
}

function toRuntimeConfig(config: ImageConfig): ImageRuntimeConfig {
  const c = config.config ?? {};
  const hc = c.Healthcheck;
  return {
    user: c.User ?? '',
    env: c.Env ?? [],
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    workingDir: c.WorkingDir ?? '',
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    volumes: Object.keys(c.Volumes ?? {}),
    labels: c.Labels ?? {},
    stopSignal: c.StopSignal ?? '',
    healthcheck: hc
      ? {
          test: hc.Test ?? [],
          intervalNs: hc.Interval ?? 0,
          timeoutNs: hc.Timeout ?? 0,
          startPeriodNs: hc.StartPeriod ?? 0,
          startIntervalNs: hc.StartInterval ?? 0,
          retries: hc.Retries ?? 0,
        }
      : undefined,
  };
}

export function fromWireAuth(auth: WireAuth | undefined): RegistryAuth | undefined {
  if (!auth || !(auth.username || auth.password || auth.identityToken || auth.registryToken)) return undefined;
  const out: RegistryAuth = {};
  if (auth.username) out.username = auth.username;
  if (auth.password) out.password = auth.password;
  if (auth.identityToken) out.identityToken = auth.identityToken;
  if (auth.registryToken) out.registryToken = auth.registryToken;
  return out;
}

function toPullResponse(p: PullProgress): PullImageResponse {
  if (p.kind === 'resolved') {
    return { kind: { $case: 'resolved', value: { name: p.name, target: toDescriptor(p.target), platform: toPlatform(p.platform) } } };
  }
  return {
    kind: {
      $case: 'blob',
      value: {
        digest: p.progress.digest,
        mediaType: p.mediaType,
        role: p.role,
        status: BLOB_STATUS[p.progress.status],
        offset: p.progress.offset,
        total: p.progress.total,
      },
    },
  };
}

/** Every Images rpc but the transfers (Push, Save, Load: imageTransfer.ts), which the daemon adds beside these. */
export function imagesService(
  adapt: HandlerAdapter,
  images: ImageService,
  puller: Puller,
  registry: RegistryClient,
): Omit<ImagesServer, 'push' | 'save' | 'load'> {
  return {
    pull: adapt.serverStream('Pull', async (ctx, request, send) => {
      if (!request.reference) throw invalidArgument('pull needs an image reference');
      const platform = request.platform ? parsePlatform(request.platform) : undefined;
      const auth = fromWireAuth(request.auth);
      // Progress arrives faster than a slow client reads; keep order but never
      // block the download on the client (sends are chained, not awaited here).
      let sending = Promise.resolve();
      const enqueue = (message: PullImageResponse) => {
        sending = sending.then(() => send(message)).catch(() => undefined);
      };
      const image = await puller.pull(ctx, request.reference, {
        platform,
        credentials: auth ? () => auth : undefined,
        onProgress: (p) => enqueue(toPullResponse(p)),
      });
      await sending;
      await send({ kind: { $case: 'image', value: toSummary(image) } });
    }),
    list: adapt.unary('List', async () => ({ images: images.list().map(toSummary) })),
    platforms: adapt.unary('Platforms', async (ctx, request) => {
      if (!request.reference) throw invalidArgument('platforms needs an image reference');
      const auth = fromWireAuth(request.auth);
      const offered = await offeredPlatforms(ctx, registry, request.reference, auth ? () => auth : undefined);
      return {
        target: toDescriptor(offered.target),
        platforms: offered.platforms.map((p) => toPlatform(p)!),
        defaultPlatform: offered.defaultPlatform,
      };
    }),
    inspect: adapt.unary('Inspect', async (ctx, request) => {
      const details = await images.inspect(ctx, request.image);
      return {
        image: toSummary(details.image),
        names: details.names,
        config: toRuntimeConfig(details.config),
        layers: details.manifest.layers.map(toDescriptor),
        diffIds: details.config.rootfs.diff_ids,
        history: (details.config.history ?? []).map((h) => ({
          created: h.created ?? '',
          createdBy: h.created_by ?? '',
          author: h.author ?? '',
          comment: h.comment ?? '',
          emptyLayer: h.empty_layer ?? false,
          // History's own fields (docs/layers.md): Inspect reads no layer.
          size: 0,
          id: '',
          layerIndex: 0,
        })),
        author: details.config.author ?? '',
        manifestJson: details.manifestJson,
        configJson: details.configJson,
      };
    }),
    tag: adapt.unary('Tag', async (_ctx, request) => ({ image: toSummary(await images.tag(request.source, request.target)) })),
    remove: adapt.unary('Remove', async (ctx, request) => images.remove(ctx, request.image, request.force)),
    prune: adapt.unary('Prune', async (ctx, request) => images.prune(ctx, request.all)),
  };
}

/** Registry/Login; the browsing calls are registries.ts's. */
export function registryService(adapt: HandlerAdapter, registry: RegistryClient): Pick<RegistryServer, 'login'> {
  return {
    login: adapt.unary('Login', async (ctx, request) => {
      const auth = fromWireAuth(request.auth);
      if (!request.server) throw invalidArgument('login needs a registry server');
      if (!auth) throw invalidArgument('login needs credentials');
      await registry.login(ctx, request.server, auth);
      return { status: 'Login Succeeded' };
    }),
  };
}
