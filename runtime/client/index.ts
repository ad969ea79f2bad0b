/**
 * The door of the client package: everything the CLI (runtime/cli/) and the
 * extension (src/) need to talk to gantryd, and nothing else of runtime/.
 * docs/client.md is the guide; in short:
 *
 * - The typed client: RuntimeClient, one namespace per gRPC service
 *   (`images`, `containers`, `networks`, `files`, `snapshots`, `events`, `system`). Every error
 *   that leaves it is a GantryError; its kind is what callers branch on.
 * - Flows written once for both callers: pull and push with per-blob
 *   progress (pullImage, pushImage), attach and start (attachAndStart,
 *   stdioMessages), logs (LogCursor, readLogs), events with resume
 *   (EventCursor), port forwarding (forwardPorts).
 * - Reaching a daemon: this machine's socket (defaultSocket, socketFromEnv,
 *   LocalEndpoint), a host over SSH (connectRemote, SshEndpoint), the
 *   handshake (openClient), and the node flags and environment gantryd is
 *   started with.
 * - The API's wire types, as the generated code declares them.
 */

// The typed client.
export { RuntimeClient } from './client';
export type { CallOpts } from './rpc';
export { toWireAuth, type ImagesApi } from './imagesApi';
export { fullConfig, type ContainersApi, type LogsOptions, type StdioSession, type StopOptions } from './containersApi';
export type { PortForwardStream } from './portForwardStream';
export type { CreateNetworkOptions, NetworksApi } from './networksApi';
export type { FilesApi, FileTargetRef, WriteOpts } from './filesApi';
export type { DirectoryEntry } from '../api/directoryColumns';
export type { CreateVolumeOptions, VolumesApi } from './volumesApi';
export { ServingStatus, type EventsApi, type SnapshotsApi, type SystemApi } from './smallApis';

// Its error API: kinds, not text (docs/architecture.md, "Conventions").
export {
  describe,
  ErrorReasons,
  GantryError,
  internal,
  invalidArgument,
  isGantryError,
  isNotFound,
  kindOf,
  type ErrorKind,
} from '../errdefs/errdefs';

// Flows.
export { pullImage, registryAuthFor, type PullHandlers, type PullOutcome, type PullRequest } from './flows/pull';
export { pushImage, type PushHandlers, type PushRequest } from './flows/push';
// This side's Docker config, as `gantry login`/`logout` keep it (the extension's Log In…).
export { removeCredentials, storeCredentials } from '../distribution/credentials';
export { attachAndStart, stdioMessages, type AttachStartOptions, type StdioMessage } from './flows/stdio';
export { LogCursor, readLogs } from './flows/logs';
export { EventCursor, type EventHandlers } from './flows/events';
export {
  forwardPorts,
  parsePortForwardSpec,
  type ForwardedPort,
  type PortForwardOptions,
  type PortForwardSpec,
  type PortForwarding,
} from './flows/portForward';

// Reaching a daemon.
export { defaultSocket, socketFromEnv } from './socketPath';
export {
  describeSource,
  discoverSocket,
  groupHint,
  SYSTEM_SOCKET,
  type DiscoveredSocket,
  type SocketSource,
  type TriedSocket,
} from './discovery';
export { assertCredentialSafe, socketDistrust } from './socketTrust';
export { LocalEndpoint, openClient, type RuntimeEndpoint } from './endpoint';
export { SshEndpoint, type RemoteConnector } from './ssh/sshEndpoint';
export { connectRemote, sshOptionsFromEnv } from './ssh/connect';
export { formatSshTarget, parseSshTarget } from './ssh/target';
export type { RemoteOptions, RemoteRuntime, SshOptions, SshTarget } from './ssh/remote';
export { DAEMON_ENV, DAEMON_NODE_FLAGS, daemonEnvWords } from './daemonFlags';
export type { Ctx } from '../context';

// The API's wire types (enums are values).
export { ContainerStatus, HealthStatus, StdStream } from '../api/gen/gantry/v1/containers';
export type {
  AttachResponse,
  AttachStart,
  ContainerConfig,
  ContainerStats,
  ContainerSummary,
  CriPodMember,
  EndpointSettings,
  ExecResponse,
  ExecStart,
  HealthcheckConfig,
  HealthProbe,
  IdMapping,
  InspectContainerResponse,
  LogEntry,
  PortBinding,
  TerminalSize,
  TopContainerResponse,
} from '../api/gen/gantry/v1/containers';
export { BlobStatus, PushBlobStatus } from '../api/gen/gantry/v1/images';
export type {
  BlobProgress,
  HistoryEntry,
  ImageLayer,
  ImageLayersResponse,
  LayerChangesResponse,
  ImagePlatformsResponse,
  ImageSummary,
  InspectImageResponse,
  ListRegistriesResponse,
  ListRepositoriesResponse,
  Platform,
  PruneImagesResponse,
  PullResolved,
  PushBlobProgress,
  PushedImage,
  PushStarted,
  RegistryAuth,
  RegistryLogin,
  RemoveImageResponse,
} from '../api/gen/gantry/v1/images';
export type { NetworkInfo, PruneNetworksResponse } from '../api/gen/gantry/v1/networks';
export type { DiskUsageContainer, DiskUsageImage, DiskUsageResponse, DiskUsageVolume } from '../api/gen/gantry/v1/system';
export { FileType, type FileInfo } from '../api/gen/gantry/v1/files';
export { ChangeKind, type FileChange } from '../api/gen/gantry/v1/changes';
export type { PruneVolumesResponse, Volume, VolumeUser } from '../api/gen/gantry/v1/volumes';
export type { MountPoint } from '../api/gen/gantry/v1/containers';
export type { Envelope, Gap } from '../api/gen/gantry/v1/events';
export type { VersionResponse } from '../api/gen/gantry/v1/version';
export { SnapshotKind } from '../api/gen/gantry/v1/snapshots';
export type { ListSnapshotsResponse, SnapshotUsageResponse } from '../api/gen/gantry/v1/snapshots';
