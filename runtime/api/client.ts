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
import { EventsClient, type SubscribeRequest, type SubscribeResponse } from './gen/gantry/v1/events';
import { VersionClient, type VersionResponse } from './gen/gantry/v1/version';
import { HealthClient, HealthCheckResponse_ServingStatus as ServingStatus } from './gen/grpc/health/v1/health';

export { ServingStatus };

export interface CallOpts {
  signal?: AbortSignal;
  /** Milliseconds until the call fails with DeadlineExceeded. Default 30 s. */
  timeoutMs?: number;
}

type UnaryMethod<Req, Res> = (
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
  async *subscribe(request: Partial<SubscribeRequest>, signal?: AbortSignal): AsyncGenerator<SubscribeResponse> {
    const call: ClientReadableStream<SubscribeResponse> = this.eventsClient.subscribe({
      since: request.since,
      topics: request.topics ?? [],
      noFollow: request.noFollow ?? false,
    });
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of call) yield message as SubscribeResponse;
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
    this.channel.close();
  }

  private unary<Req, Res>(target: object, method: UnaryMethod<Req, Res>, request: Req, opts: CallOpts): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(fromServiceError(opts.signal.reason));
        return;
      }
      const deadline = new Date(Date.now() + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS));
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
