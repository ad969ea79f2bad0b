/**
 * The typed client for gantryd's API, shared by the CLI and the extension
 * (it has no VS Code imports). One HTTP/2 channel carries every service.
 * Every error that leaves this class is a GantryError whose kind is the one
 * the daemon raised (errdefs/grpc.ts).
 */
import {
  Channel,
  credentials,
  Metadata,
  type CallOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromServiceError } from '../errdefs/grpc';
import type { RegistryAuth as ClientAuth } from '../distribution/distribution';
import { EventsClient, type SubscribeRequest, type SubscribeResponse } from '../api/gen/gantry/v1/events';
import { VersionClient, type VersionResponse } from '../api/gen/gantry/v1/version';
import { HealthClient, HealthCheckResponse_ServingStatus as ServingStatus } from '../api/gen/grpc/health/v1/health';
import { SnapshotsClient, type ListSnapshotsResponse, type SnapshotUsageResponse } from '../api/gen/gantry/v1/snapshots';
import {
  ImagesClient,
  RegistryClient,
  type ImagePlatformsResponse,
  type ImageSummary,
  type InspectImageResponse,
  type PruneImagesResponse,
  type PullImageRequest,
  type PullImageResponse,
  type RemoveImageResponse,
  type RegistryAuth,
} from '../api/gen/gantry/v1/images';
import { ContainersClient } from '../api/gen/gantry/v1/containers';
import { ContainersApi } from './containersApi';

export { ServingStatus };

export interface CallOpts {
  signal?: AbortSignal;
  /** Milliseconds until the call fails with DeadlineExceeded. Default 30 s; Infinity = none. */
  timeoutMs?: number;
}

export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

const DEFAULT_TIMEOUT_MS = 30_000;

export class RuntimeClient {
  private readonly channel: Channel;
  private readonly versionClient: VersionClient;
  private readonly eventsClient: EventsClient;
  private readonly healthClient: HealthClient;
  private readonly imagesClient: ImagesClient;
  private readonly registryClient: RegistryClient;
  private readonly snapshotsClient: SnapshotsClient;
  private readonly containersClient: ContainersClient;
  /** gantry.v1.Images and gantry.v1.Registry. */
  readonly images: ImagesApi;
  /** gantry.v1.Containers. */
  readonly containers: ContainersApi;

  /** `address` is a gRPC target, e.g. `unix:/run/gantry/gantry.sock`. Nothing connects until the first call. */
  constructor(readonly address: string) {
    const creds = credentials.createInsecure();
    this.channel = new Channel(address, creds, {
      // The daemon is local or behind our own SSH pipe: no proxies, no DNS.
      'grpc.enable_http_proxy': 0,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
    const options = { channelOverride: this.channel };
    this.versionClient = new VersionClient(address, creds, options);
    this.eventsClient = new EventsClient(address, creds, options);
    this.healthClient = new HealthClient(address, creds, options);
    this.imagesClient = new ImagesClient(address, creds, options);
    this.registryClient = new RegistryClient(address, creds, options);
    this.snapshotsClient = new SnapshotsClient(address, creds, options);
    this.containersClient = new ContainersClient(address, creds, options);
    this.images = new ImagesApi(this, this.imagesClient, this.registryClient);
    this.containers = new ContainersApi(this, this.containersClient);
  }

  static forSocket(socketPath: string): RuntimeClient {
    return new RuntimeClient(`unix:${socketPath}`);
  }

  version(opts: CallOpts = {}): Promise<VersionResponse> {
    return this.unary(this.versionClient, this.versionClient.version, {}, opts);
  }

  async health(service = '', opts: CallOpts = {}): Promise<ServingStatus> {
    const response = await this.unary(this.healthClient, this.healthClient.check, { service }, opts);
    return response.status;
  }

  /**
   * The event stream. Iteration ends normally when the daemon ends the stream
   * or `signal` aborts; it throws a GantryError when the connection fails.
   */
  subscribe(request: Partial<SubscribeRequest>, signal?: AbortSignal): AsyncGenerator<SubscribeResponse> {
    return this.stream(
      this.eventsClient.subscribe({ since: request.since, topics: request.topics ?? [], noFollow: request.noFollow ?? false }),
      signal,
    );
  }

  listSnapshots(opts?: CallOpts): Promise<ListSnapshotsResponse> {
    return this.unary(this.snapshotsClient, this.snapshotsClient.list, {}, opts);
  }

  snapshotUsage(key: string, opts?: CallOpts): Promise<SnapshotUsageResponse> {
    return this.unary(this.snapshotsClient, this.snapshotsClient.usage, { key }, opts);
  }

  /** Iterates a server stream, mapping failures to GantryErrors; aborting `signal` cancels the call. */
  async *stream<Res>(call: ClientReadableStream<Res>, signal?: AbortSignal): AsyncGenerator<Res> {
    if (signal?.aborted) {
      call.cancel(); // an 'abort' listener added now would never fire
      return;
    }
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of call) yield message as Res;
    } catch (e) {
      if (signal?.aborted) return;
      throw fromServiceError(e);
    } finally {
      signal?.removeEventListener('abort', cancel);
      call.cancel();
    }
  }

  close(): void {
    this.versionClient.close();
    this.eventsClient.close();
    this.healthClient.close();
    this.imagesClient.close();
    this.registryClient.close();
    this.snapshotsClient.close();
    this.containersClient.close();
    this.channel.close();
  }

  unary<Req, Res>(target: object, method: UnaryMethod<Req, Res>, request: Req, opts: CallOpts = {}): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(fromServiceError(opts.signal.reason));
        return;
      }
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      // grpc-js arms a timer for the deadline: past 2^31 ms it would fire at once, so "no deadline" is Infinity.
      const deadline = Number.isFinite(timeoutMs) ? new Date(Date.now() + timeoutMs) : Infinity;
      const call = method.call(target, request, new Metadata(), { deadline }, (error, response) => {
        opts.signal?.removeEventListener('abort', cancel);
        if (error) reject(fromServiceError(error));
        else resolve(response);
      });
      const cancel = () => call.cancel();
      opts.signal?.addEventListener('abort', cancel, { once: true });
    });
  }
}

export class ImagesApi {
  constructor(
    private readonly rpc: RuntimeClient,
    private readonly images: ImagesClient,
    private readonly registry: RegistryClient,
  ) {}

  /** Progress messages, ending with `{kind: {$case: 'image'}}`. Abort `signal` to cancel the pull. */
  pull(request: Partial<PullImageRequest> & { reference: string }, signal?: AbortSignal): AsyncGenerator<PullImageResponse> {
    return this.rpc.stream(this.images.pull({ platform: '', auth: undefined, ...request }), signal);
  }

  async list(opts?: CallOpts): Promise<ImageSummary[]> {
    return (await this.rpc.unary(this.images, this.images.list, {}, opts)).images;
  }

  /** The platforms the reference's index offers (empty for a single-platform image), asked of the registry. */
  platforms(reference: string, auth?: RegistryAuth, opts?: CallOpts): Promise<ImagePlatformsResponse> {
    return this.rpc.unary(this.images, this.images.platforms, { reference, auth }, opts);
  }

  inspect(image: string, opts?: CallOpts): Promise<InspectImageResponse> {
    return this.rpc.unary(this.images, this.images.inspect, { image }, opts);
  }

  async tag(source: string, target: string, opts?: CallOpts): Promise<ImageSummary> {
    const { image } = await this.rpc.unary(this.images, this.images.tag, { source, target }, opts);
    return image!;
  }

  remove(image: string, force = false, opts?: CallOpts): Promise<RemoveImageResponse> {
    return this.rpc.unary(this.images, this.images.remove, { image, force }, opts);
  }

  prune(all = false, opts?: CallOpts): Promise<PruneImagesResponse> {
    return this.rpc.unary(this.images, this.images.prune, { all }, opts);
  }

  async login(server: string, auth: RegistryAuth, opts?: CallOpts): Promise<string> {
    return (await this.rpc.unary(this.registry, this.registry.login, { server, auth }, opts)).status;
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
