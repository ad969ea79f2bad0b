/**
 * The typed client for gantryd's API, shared by the CLI and the extension
 * (it has no VS Code imports). One HTTP/2 channel carries every service; each
 * gRPC service is one namespace: `client.images`, `client.containers`,
 * `client.networks`, `client.files`, `client.volumes`, `client.snapshots`, `client.events`, `client.system`. Every error that
 * leaves it is a GantryError whose kind is the one the daemon raised
 * (rpc.ts, runtime/errdefs/grpc.ts).
 */
import { Channel, credentials } from '@grpc/grpc-js';
import { EventsClient } from '../api/gen/gantry/v1/events';
import { VersionClient } from '../api/gen/gantry/v1/version';
import { HealthClient } from '../api/gen/grpc/health/v1/health';
import { SnapshotsClient } from '../api/gen/gantry/v1/snapshots';
import { ImagesClient, RegistryClient } from '../api/gen/gantry/v1/images';
import { ContainersClient } from '../api/gen/gantry/v1/containers';
import { NetworksClient } from '../api/gen/gantry/v1/networks';
import { FilesClient } from '../api/gen/gantry/v1/files';
import { VolumesClient } from '../api/gen/gantry/v1/volumes';
import { SystemClient } from '../api/gen/gantry/v1/system';
import { ContainersApi } from './containersApi';
import { ImagesApi } from './imagesApi';
import { NetworksApi } from './networksApi';
import { FilesApi } from './filesApi';
import { rawSocketOf } from '../rawbytes/index';
import { VolumesApi } from './volumesApi';
import { EventsApi, SnapshotsApi, SystemApi } from './smallApis';
import { assertCredentialSafe } from './socketTrust';

export class RuntimeClient {
  private readonly channel: Channel;
  private readonly grpcClients: { close(): void }[];
  /** gantry.v1.Images and gantry.v1.Registry. */
  readonly images: ImagesApi;
  /** gantry.v1.Containers. */
  readonly containers: ContainersApi;
  /** gantry.v1.Networks. */
  readonly networks: NetworksApi;
  /** gantry.v1.Files: containers' filesystems. */
  readonly files: FilesApi;
  /** gantry.v1.Volumes. */
  readonly volumes: VolumesApi;
  /** gantry.v1.Snapshots. */
  readonly snapshots: SnapshotsApi;
  /** gantry.v1.Events. */
  readonly events: EventsApi;
  /** gantry.v1.Version, grpc.health.v1.Health and gantry.v1.System. */
  readonly system: SystemApi;

  /**
   * `address` is a gRPC target, e.g. `unix:/run/gantry/gantry.sock`. Nothing
   * connects until the first call. `localFiles: false`: file reads never
   * use local access (docs/files.md, "Local access"), as a client without
   * access to gantryd's descriptors (benchmarks compare the two ways).
   */
  constructor(
    readonly address: string,
    opts: { localFiles?: boolean } = {},
  ) {
    const creds = credentials.createInsecure();
    this.channel = new Channel(address, creds, {
      // The daemon is local or behind our own SSH pipe: no proxies, no DNS.
      'grpc.enable_http_proxy': 0,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // Streams from the daemon (file reads, saves, logs) would otherwise wait
      // for a window update every 64 KiB (docs/performance.md, the files benchmark).
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
    });
    const options = { channelOverride: this.channel };
    const version = new VersionClient(address, creds, options);
    const events = new EventsClient(address, creds, options);
    const health = new HealthClient(address, creds, options);
    const images = new ImagesClient(address, creds, options);
    const registry = new RegistryClient(address, creds, options);
    const snapshots = new SnapshotsClient(address, creds, options);
    const containers = new ContainersClient(address, creds, options);
    const networks = new NetworksClient(address, creds, options);
    const files = new FilesClient(address, creds, options);
    const volumes = new VolumesClient(address, creds, options);
    this.grpcClients = [version, events, health, images, registry, snapshots, containers, networks, files, volumes];
    const system = new SystemClient(address, creds, options);
    this.grpcClients.push(system);
    // A unix socket is checked before credentials go to it; another transport is our own SSH pipe.
    const socket = address.startsWith('unix:') ? address.slice('unix:'.length) : undefined;
    this.images = new ImagesApi(images, registry, socket ? () => assertCredentialSafe(socket) : undefined);
    this.containers = new ContainersApi(containers);
    this.networks = new NetworksApi(networks);
    this.files = new FilesApi(files, rawSocketOf(address), opts.localFiles ?? true);
    this.volumes = new VolumesApi(volumes);
    this.snapshots = new SnapshotsApi(snapshots);
    this.events = new EventsApi(events);
    this.system = new SystemApi(version, health, system);
  }

  static forSocket(socketPath: string, opts: { localFiles?: boolean } = {}): RuntimeClient {
    return new RuntimeClient(`unix:${socketPath}`, opts);
  }

  close(): void {
    for (const client of this.grpcClients) client.close();
    this.channel.close();
  }
}
