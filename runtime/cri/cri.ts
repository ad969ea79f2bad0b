/**
 * The Kubernetes Container Runtime Interface (CRI, `runtime.v1`): gantryd as
 * a kubelet's (or crictl's) container runtime. See docs/cri.md.
 *
 * Terms
 * - *RuntimeService* and *ImageService*: the two gRPC services of the CRI,
 *   generated from runtime/cri/proto/runtime/v1/api.proto into runtime/cri/gen/.
 *   gantryd serves both on a socket of its own (`--cri-socket`, default
 *   `<state>/cri.sock`), beside the gantry.v1 API, never on the same socket.
 * - *Image*: the CRI sees gantryd's one image store (runtime/images/), grouped
 *   by image ID (the config digest): one CRI Image per ID, its names in
 *   `repo_tags`, its repository@manifest-digest names in `repo_digests`.
 *   Names are canonical references (`docker.io/library/busybox:1.36`), so a
 *   CRI pull and a `gantry pull` of the same name are the same record.
 * - *Image ref*: what PullImage returns and every other image field carries:
 *   the image ID (`sha256:<config digest>`).
 *
 * Rules
 * - Every RPC either works as the CRI specifies or answers UNIMPLEMENTED
 *   with what is missing (unimplemented.ts); no call can crash the daemon.
 * - ImageStatus of an absent image answers with no image (not NOT_FOUND);
 *   RemoveImage of an absent image succeeds: the CRI requires both.
 * - AuthConfig credentials serve only the registry they name
 *   (`server_address`), or the image's registry when they name none.
 */
import type { Registry } from '../distribution/distribution';
import type { Puller } from '../images/pull';
import type { ImageService as GantryImages } from '../images/service';
import type { Logger } from '../util/log';
import type { Ctx } from '../context';
import type { ContainerIO } from '../containers/io';
import type { ContainerService } from '../containers/service';
import type { Attachment } from '../network/index';
import type { PauseRootfs } from './pause';
import type { Subscriber } from '../events/events';
import type { ContainerStats as TaskStats } from '../tasks/stats';
import type { Container } from '../containers/containers';
import type { FsUsage } from './fsUsage';
import type { ForwardConnection } from '../network/forward/dial';
import type { StreamUrls } from './streaming/streaming';

/** The cgroup driver gantryd uses: cgroupfs (cgroupsPathOf in runtime/containers/launcher.ts). */
export type CgroupDriverName = 'cgroupfs' | 'systemd';

/** A binary gantryd drives, as probed at start-up (the daemon's ComponentInfo). */
export interface CriComponent {
  readonly name: string;
  /** Absolute path, or '' when not found. */
  readonly path: string;
  readonly version: string;
}

export interface CriRuntimeInfo {
  /** runc and conmon. */
  components(): Promise<readonly CriComponent[]>;
  /** Why CNI networks are unusable, or undefined when they work (daemon/networks.ts). */
  networkUnavailable(): string | undefined;
  readonly cgroupDriver: CgroupDriverName;
  /** Settings shown by `Status` with verbose (JSON). */
  readonly settings: Readonly<Record<string, unknown>>;
}

export interface CriImageDeps {
  readonly images: GantryImages;
  readonly puller: Puller;
  readonly registry: Registry;
  /** The data root's directories whose usage ImageFsInfo reports (content, snapshots). */
  readonly imageFsDirs: readonly string[];
  /** The directory reported as the image filesystem's mountpoint. */
  readonly imageFsMountpoint: string;
}

/** What pods and their containers run on (sandboxes.ts, podContainers.ts); absent: those RPCs fail with the reason. */
export interface CriPodDeps {
  readonly log: Logger;
  /** The one container service: a sandbox is its infra container, a CRI container a container (records.ts). */
  readonly service: Pick<
    ContainerService,
    'resolve' | 'create' | 'start' | 'stop' | 'remove' | 'list' | 'bundleOf' | 'logPathOf' | 'reconfigure'
  >;
  readonly io: Pick<ContainerIO, 'exec' | 'attach' | 'specJson'>;
  /** The infra root filesystem (pause.ts). */
  readonly pause: Pick<PauseRootfs, 'base'>;
  /** `--sandbox-image`: this image as the infra instead of catatonit. */
  readonly sandboxImage?: string;
  /** The image is in the store (pulled when missing). */
  ensureImage(ctx: Ctx, reference: string): Promise<void>;
  /** The CNI network pods attach to, made when missing (podNetwork.ts). */
  podNetwork(ctx: Ctx): Promise<string>;
  /** The infra's network attachment while it runs. */
  attachmentOf(id: string): Attachment | undefined;
  /** Tells the container's conmon to reopen its log file (ReopenContainerLog). */
  reopenLog(id: string): void;
  /** One sample of a running container's cgroup (runtime/tasks/stats.ts, the reader of `gantry stats`); NotFound when it has none. */
  cgroupStats(container: Container): Promise<TaskStats>;
  /** The container's writable layer (its snapshot's own changes) and the mountpoint of the filesystem it is on. */
  writableLayer(ctx: Ctx, container: Container): Promise<FsUsage & { readonly mountpoint: string }>;
  /** Applies OCI Linux resources to a running container's task (`runc update`). */
  updateTask(ctx: Ctx, id: string, resources: Readonly<Record<string, unknown>>): Promise<void>;
  /** The daemon's event log: GetContainerEvents follows its container events. */
  readonly events: Subscriber;
  /** A TCP connection to `port` on the sandbox's localhost (runtime/containers/portForward.ts). */
  dial(ctx: Ctx, sandboxId: string, port: number): Promise<ForwardConnection>;
}

export interface CriDeps {
  readonly log: Logger;
  readonly runtime: CriRuntimeInfo;
  readonly images: CriImageDeps;
  /** Absent when containers or networks are unavailable: the pod RPCs then say why. */
  readonly pods?: CriPodDeps;
  /** Why pods are unavailable (when `pods` is absent). */
  readonly podsUnavailable?: string;
  /** The streaming server's URLs for Exec, Attach and PortForward (streaming/server.ts); absent: those fail. */
  readonly streams?: StreamUrls;
}
