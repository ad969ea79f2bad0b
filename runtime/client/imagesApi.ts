/**
 * `client.images`: gantry.v1.Images and gantry.v1.Registry. Failures are
 * GantryErrors (rpc.ts). The pull with progress as callers draw it is the
 * flow in flows/pull.ts.
 */
import type { RegistryAuth as ClientAuth } from '../distribution/distribution';
import type {
  CommitImageRequest,
  ImportImageRequest,
  ImportImageStart,
  HistoryEntry,
  ImageLayersResponse,
  LayerChangesResponse,
  ImagePlatformsResponse,
  ImagesClient,
  ImageSummary,
  InspectImageResponse,
  PruneImagesResponse,
  LoadImagesChunk,
  ListRegistriesResponse,
  ListRepositoriesResponse,
  PullImageRequest,
  PullImageResponse,
  PushImageRequest,
  PushImageResponse,
  RegistryAuth,
  RegistryClient,
  RemoveImageResponse,
} from '../api/gen/gantry/v1/images';
import { loadWithChunkCodec } from '../api/chunkCodec';
import { clientStream, stream, unary, type CallOpts } from './rpc';

/** Load sends the archive in messages of at most this size (well under gRPC's limits). */
const LOAD_CHUNK = 1024 * 1024;

export class ImagesApi {
  constructor(
    private readonly images: ImagesClient,
    private readonly registry: RegistryClient,
    /** Throws when the daemon's socket must not receive credentials (client/socketTrust.ts); run before every call that carries them. */
    private readonly beforeCredentials: () => void = () => undefined,
  ) {}

  private guard(auth: RegistryAuth | undefined): void {
    if (auth) this.beforeCredentials();
  }

  /** Progress messages, ending with `{kind: {$case: 'image'}}`. Abort `signal` to cancel the pull. */
  pull(request: Partial<PullImageRequest> & { reference: string }, signal?: AbortSignal): AsyncGenerator<PullImageResponse> {
    this.guard(request.auth);
    return stream(this.images.pull({ platform: '', auth: undefined, ...request }), signal);
  }

  /** Progress messages, ending with one `{kind: {$case: 'pushed'}}` per pushed tag. Abort `signal` to cancel the push. */
  push(request: Partial<PushImageRequest> & { reference: string }, signal?: AbortSignal): AsyncGenerator<PushImageResponse> {
    this.guard(request.auth);
    return stream(this.images.push({ platform: '', auth: undefined, allTags: false, ...request }), signal);
  }

  /** The archive's bytes, in order. `format`: 'docker' (default) or 'oci'. */
  async *save(images: string[], format = 'docker', signal?: AbortSignal): AsyncGenerator<Buffer> {
    // The decoded field is already a Buffer of its own message: no copy (docs/performance.md, "Transfer").
    for await (const chunk of stream(this.images.save({ images, format }), signal)) yield chunk.data;
  }

  /** Sends an archive (any supported layout and compression); resolves with the records written. */
  async load(archive: AsyncIterable<Uint8Array>, opts?: CallOpts): Promise<ImageSummary[]> {
    async function* chunks(): AsyncGenerator<LoadImagesChunk> {
      for await (const data of archive) {
        // A view, not a copy: encoding the message copies the bytes once anyway.
        const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        for (let i = 0; i < bytes.length; i += LOAD_CHUNK) yield { data: bytes.subarray(i, i + LOAD_CHUNK) };
      }
    }
    // Encoded directly, not through the generated encoder's growing buffer (api/chunkCodec.ts).
    return (await clientStream(this.images, loadWithChunkCodec(this.images), chunks(), opts)).images;
  }

  /** `commit`: a new image of the container's changes; resolves with its record. No deadline unless `opts` sets one. */
  async commit(request: Partial<CommitImageRequest> & { container: string }, opts?: CallOpts): Promise<ImageSummary> {
    const full: CommitImageRequest = { reference: '', comment: '', author: '', changes: [], noPause: false, ...request };
    return (await unary(this.images, this.images.commit, full, { timeoutMs: Infinity, ...opts })).image!;
  }

  /**
   * `import`: a one-layer image of a filesystem tar, sent from `tar` or
   * (without it) fetched by the daemon from `start.url`.
   */
  async import(start: Partial<ImportImageStart>, tar?: AsyncIterable<Uint8Array>, opts?: CallOpts): Promise<ImageSummary> {
    const first: ImportImageStart = { reference: '', changes: [], message: '', platform: '', url: '', ...start };
    async function* messages(): AsyncGenerator<ImportImageRequest> {
      yield { kind: { $case: 'start', value: first } };
      if (!tar) return;
      for await (const data of tar) {
        for (let i = 0; i < data.length; i += LOAD_CHUNK)
          yield { kind: { $case: 'data', value: Buffer.from(data.subarray(i, i + LOAD_CHUNK)) } };
      }
    }
    return (await clientStream(this.images, this.images.import, messages(), opts)).image!;
  }

  async list(opts?: CallOpts): Promise<ImageSummary[]> {
    return (await unary(this.images, this.images.list, {}, opts)).images;
  }

  /** The platforms the reference's index offers (empty for a single-platform image), asked of the registry. */
  platforms(reference: string, auth?: RegistryAuth, opts?: CallOpts): Promise<ImagePlatformsResponse> {
    this.guard(auth);
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

  /** `docker history`: the config's history, newest first, with layer sizes (docs/layers.md). */
  async history(image: string, opts?: CallOpts): Promise<HistoryEntry[]> {
    return (await unary(this.images, this.images.history, { image }, opts)).entries;
  }

  /** The image's layers, bottom first. */
  async layers(image: string, opts?: CallOpts): Promise<ImageLayersResponse> {
    return unary(this.images, this.images.layers, { image }, opts);
  }

  /** What layer `index` (0 = bottom) added, changed and deleted. */
  async layerChanges(image: string, index: number, opts?: CallOpts): Promise<LayerChangesResponse> {
    return unary(this.images, this.images.layerChanges, { image, index }, opts);
  }

  async login(server: string, auth: RegistryAuth, opts?: CallOpts): Promise<string> {
    this.guard(auth);
    return (await unary(this.registry, this.registry.login, { server, auth }, opts)).status;
  }

  /** The registries the daemon's user is logged in to (its Docker config), and the file read. */
  listRegistries(opts?: CallOpts): Promise<ListRegistriesResponse> {
    return unary(this.registry, this.registry.listRegistries, {}, opts);
  }

  /** A registry's repositories: its catalog, or (refused) the local images' repositories of it. */
  listRepositories(server: string, pageSize = 0, opts?: CallOpts): Promise<ListRepositoriesResponse> {
    return unary(this.registry, this.registry.listRepositories, { server, auth: undefined, pageSize }, opts);
  }

  /** The tags of "host/path", every page. */
  async listTags(repository: string, pageSize = 0, opts?: CallOpts): Promise<string[]> {
    return (await unary(this.registry, this.registry.listTags, { repository, auth: undefined, pageSize }, opts)).tags;
  }

  /** Deletes the manifest "host/path:tag" points at (every tag on it goes); resolves with its digest. */
  async deleteTag(reference: string, opts?: CallOpts): Promise<string> {
    return (await unary(this.registry, this.registry.deleteTag, { reference, auth: undefined }, opts)).digest;
  }

  /** Removes the daemon user's stored credentials for `server`; false when there were none. */
  async logout(server: string, opts?: CallOpts): Promise<boolean> {
    return (await unary(this.registry, this.registry.logout, { server }, opts)).removed;
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
