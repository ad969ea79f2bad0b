/**
 * `client.images`: gantry.v1.Images and gantry.v1.Registry. Failures are
 * GantryErrors (rpc.ts). The pull with progress as callers draw it is the
 * flow in flows/pull.ts.
 */
import type { RegistryAuth as ClientAuth } from '../distribution/distribution';
import type {
  ImagePlatformsResponse,
  ImagesClient,
  ImageSummary,
  InspectImageResponse,
  PruneImagesResponse,
  PullImageRequest,
  PullImageResponse,
  RegistryAuth,
  RegistryClient,
  RemoveImageResponse,
} from '../api/gen/gantry/v1/images';
import { stream, unary, type CallOpts } from './rpc';

export class ImagesApi {
  constructor(
    private readonly images: ImagesClient,
    private readonly registry: RegistryClient,
  ) {}

  /** Progress messages, ending with `{kind: {$case: 'image'}}`. Abort `signal` to cancel the pull. */
  pull(request: Partial<PullImageRequest> & { reference: string }, signal?: AbortSignal): AsyncGenerator<PullImageResponse> {
    return stream(this.images.pull({ platform: '', auth: undefined, ...request }), signal);
  }

  async list(opts?: CallOpts): Promise<ImageSummary[]> {
    return (await unary(this.images, this.images.list, {}, opts)).images;
  }

  /** The platforms the reference's index offers (empty for a single-platform image), asked of the registry. */
  platforms(reference: string, auth?: RegistryAuth, opts?: CallOpts): Promise<ImagePlatformsResponse> {
    return unary(this.images, this.images.platforms, { reference, auth }, opts);
  }

  inspect(image: string, opts?: CallOpts): Promise<InspectImageResponse> {
    return unary(this.images, this.images.inspect, { image }, opts);
  }

  async tag(source: string, target: string, opts?: CallOpts): Promise<ImageSummary> {
    const { image } = await unary(this.images, this.images.tag, { source, target }, opts);
    return image!;
  }

  remove(image: string, force = false, opts?: CallOpts): Promise<RemoveImageResponse> {
    return unary(this.images, this.images.remove, { image, force }, opts);
  }

  prune(all = false, opts?: CallOpts): Promise<PruneImagesResponse> {
    return unary(this.images, this.images.prune, { all }, opts);
  }

  async login(server: string, auth: RegistryAuth, opts?: CallOpts): Promise<string> {
    return (await unary(this.registry, this.registry.login, { server, auth }, opts)).status;
  }
}

/** Credentials as the Pull and Login requests carry them. */
export function toWireAuth(auth: ClientAuth | undefined): RegistryAuth | undefined {
  if (!auth) return undefined;
  return {
    username: auth.username ?? '',
    password: auth.password ?? '',
    identityToken: auth.identityToken ?? '',
    registryToken: auth.registryToken ?? '',
  };
}
