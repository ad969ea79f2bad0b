/**
 * The namespaces of RuntimeClient for the small services: `system` (Version,
 * Health and DiskUsage), `snapshots`, `events`. Failures are GantryErrors (rpc.ts).
 */
import type { EventsClient, SubscribeRequest, SubscribeResponse } from '../api/gen/gantry/v1/events';
import type { VersionClient, VersionResponse } from '../api/gen/gantry/v1/version';
import { type HealthClient, HealthCheckResponse_ServingStatus as ServingStatus } from '../api/gen/grpc/health/v1/health';
import type { ListSnapshotsResponse, SnapshotsClient, SnapshotUsageResponse } from '../api/gen/gantry/v1/snapshots';
import type { DiskUsageResponse, SystemClient } from '../api/gen/gantry/v1/system';
import { stream, unary, type CallOpts } from './rpc';

export { ServingStatus };

export class SystemApi {
  constructor(
    private readonly versionClient: VersionClient,
    private readonly healthClient: HealthClient,
    private readonly systemClient: SystemClient,
  ) {}

  /** What images, containers and volumes take on disk (`gantry system df`). */
  diskUsage(opts: CallOpts = {}): Promise<DiskUsageResponse> {
    return unary(this.systemClient, this.systemClient.diskUsage, {}, opts);
  }

  version(opts: CallOpts = {}): Promise<VersionResponse> {
    return unary(this.versionClient, this.versionClient.version, {}, opts);
  }

  async health(service = '', opts: CallOpts = {}): Promise<ServingStatus> {
    const response = await unary(this.healthClient, this.healthClient.check, { service }, opts);
    return response.status;
  }
}

export class SnapshotsApi {
  constructor(private readonly snapshots: SnapshotsClient) {}

  list(opts?: CallOpts): Promise<ListSnapshotsResponse> {
    return unary(this.snapshots, this.snapshots.list, {}, opts);
  }

  usage(key: string, opts?: CallOpts): Promise<SnapshotUsageResponse> {
    return unary(this.snapshots, this.snapshots.usage, { key }, opts);
  }
}

export class EventsApi {
  constructor(private readonly events: EventsClient) {}

  /**
   * The event stream. Iteration ends normally when the daemon ends the stream
   * or `signal` aborts; it throws a GantryError when the connection fails.
   * To resume across reconnects, use EventCursor (flows/events.ts).
   */
  subscribe(request: Partial<SubscribeRequest>, signal?: AbortSignal): AsyncGenerator<SubscribeResponse> {
    return stream(
      this.events.subscribe({ since: request.since, topics: request.topics ?? [], noFollow: request.noFollow ?? false }),
      signal,
    );
  }
}
