/**
 * Containers: what the user asked to run, and what became of it.
 *
 * Terms
 * - A *container* is a record: an ID (64 hex digits, Docker-style), a unique
 *   name, the image it was made from (name and config digest), the
 *   *ContainerConfig* the user gave (entrypoint, env, mounts, limits, restart
 *   policy, health check …), and its *state* (status, pid, exit code, times,
 *   restart count, health).
 * - Its root filesystem is a snapshot (key `container-<id>`) prepared on the
 *   image's top layer; its process is a *task* run by runc under one conmon
 *   (see tasks/).
 *
 * Rules
 * - Names are unique and match Docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
 * - A record is written atomically on every state change, one file per
 *   container, so a daemon killed at any moment restarts with every
 *   container it had, and a list is a read of memory.
 * - The record outlives the task: a container that exited keeps its exit
 *   code, logs and snapshot until it is removed.
 */

import type { ContainerConfig as ImageRuntimeConfig } from '../oci/manifest';
import type { RestartPolicy } from '../options/restartPolicy';
import type { Resources } from '../oci/spec';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** Docker's HEALTHCHECK, in milliseconds. `test` as in the image config: ["CMD", …], ["CMD-SHELL", "…"] or ["NONE"]. */
export interface HealthcheckSpec {
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly startPeriodMs: number;
  readonly retries: number;
}

export interface BindMount {
  /** Absolute host path; must exist. */
  readonly source: string;
  /** Absolute path inside the container. */
  readonly destination: string;
  readonly readOnly: boolean;
  /** Mount propagation (CRI mounts); default `rprivate`. */
  readonly propagation?: 'rprivate' | 'rslave' | 'rshared';
}

/**
 * A named volume mounted into the container (`-v NAME:/path`, `-v /path`,
 * `--mount type=volume`, an image VOLUME). The daemon resolves it at create:
 * an empty name becomes a generated one (`anonymous`), and the volume is
 * made when missing (docs/volumes.md).
 */
export interface VolumeMount {
  /** Volume name; '' until the daemon names an anonymous one. */
  readonly name: string;
  readonly destination: string;
  readonly readOnly: boolean;
  /** Do not fill an empty new volume from the image's content at the path. */
  readonly noCopy?: boolean;
  /** `--mount volume-opt=` / `volume-label=`: used if the volume is created here. */
  readonly volumeOptions?: Readonly<Record<string, string>>;
  readonly volumeLabels?: Readonly<Record<string, string>>;
  /** Made for this container: `rm -v` and `--rm` remove it. */
  readonly anonymous?: boolean;
  /** Set at create: the volume's data directory on the host (what inspect's Mounts show). */
  readonly source?: string;
}

export interface TmpfsMount {
  readonly destination: string;
  /** Mount options as Docker takes them: "size=64m", "mode=1777", "noexec" … */
  readonly options: readonly string[];
}

/**
 * `none` (loopback only), `host` (the host's namespace), `container:<id>`
 * (another container's namespace), or the name of a CNI network: `bridge`
 * (the default) or a user network (docs/networking.md).
 */
export type NetworkMode = string;

const JOIN_PREFIX = 'container:';

/** The network modes that are not CNI networks. */
export function isCniNetwork(mode: NetworkMode): boolean {
  return mode !== 'none' && mode !== 'host' && !mode.startsWith(JOIN_PREFIX);
}

/** `container:NAME|ID` → NAME|ID; undefined for every other mode. */
export function joinedContainer(mode: NetworkMode): string | undefined {
  return mode.startsWith(JOIN_PREFIX) ? mode.slice(JOIN_PREFIX.length) : undefined;
}

/** A network the container was connected to with `network connect`, besides its primary one. */
export interface NetworkConnection {
  readonly network: string;
  readonly aliases?: readonly string[];
  readonly ip?: string;
}

/** `run` flags for a container on a CNI network; absent in records written before networking. */
export interface ContainerNetworkOptions {
  /** -p specs as given; parsed (and checked) at create, again at start. */
  readonly publish?: readonly string[];
  /** -P: every exposed port (image's and --expose) to a free host port. */
  readonly publishAll?: boolean;
  readonly expose?: readonly string[];
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  readonly dnsOptions?: readonly string[];
  /** --add-host NAME:IP. */
  readonly addHosts?: readonly string[];
  readonly macAddress?: string;
  readonly ip?: string;
  readonly networkAliases?: readonly string[];
  /** `network connect`: further networks, attached after the primary one at every start. */
  readonly connectedNetworks?: readonly NetworkConnection[];
  /** `network disconnect` of the primary network (`network`): not attached until connected again. */
  readonly primaryDisconnected?: boolean;
}

/** `--device HOST[:CONTAINER[:PERMS]]`: a host device node made in the container and allowed in its device cgroup. */
export interface DeviceMapping {
  /** Absolute host path of a character or block device (or a directory of them). */
  readonly pathOnHost: string;
  /** Absolute path inside the container. */
  readonly pathInContainer: string;
  /** Some of `rwm`, in that order. */
  readonly cgroupPermissions: string;
}

/** Whether the container gets its own cgroup namespace (see privileges.ts). */
export type CgroupnsMode = 'host' | 'private';

/** What the user asked for (`gantry create/run` flags). Unset fields fall back to the image config. */
export interface ContainerConfig extends ContainerNetworkOptions {
  /** The image as the user named it (normalised reference or image ID). */
  readonly image: string;
  /** Replaces the image's Entrypoint when set ([] clears it, like `--entrypoint ""`). */
  readonly entrypoint?: readonly string[];
  /** Replaces the image's Cmd when non-empty. */
  readonly cmd?: readonly string[];
  /** KEY=VALUE, appended to (and overriding) the image's Env. */
  readonly env: readonly string[];
  readonly workingDir?: string;
  /** `name`, `uid`, `name:group`, `uid:gid`; resolved in the container's /etc/passwd and /etc/group. */
  readonly user?: string;
  /** Default: the first 12 hex digits of the ID, as Docker. */
  readonly hostname?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly mounts: readonly BindMount[];
  readonly tmpfs: readonly TmpfsMount[];
  /** Named and anonymous volumes; absent in records written before volumes. */
  readonly volumes?: readonly VolumeMount[];
  /** `--volumes-from CONTAINER[:ro|rw]` as given (already expanded into mounts and volumes at create). */
  readonly volumesFrom?: readonly string[];
  readonly readOnlyRootfs: boolean;
  /** Bytes; 0 = no limit. */
  readonly memoryBytes: number;
  /** CPUs × 1e9 (Docker's NanoCPUs); 0 = no limit. */
  readonly nanoCpus: number;
  /** 0 = no limit. */
  readonly pidsLimit: number;
  /**
   * OCI `linux.resources` set over those made from memoryBytes, nanoCpus
   * and pidsLimit: the CRI's exact CPU period/quota/shares, cpuset,
   * hugepages and cgroup v2 `unified` (docs/cri.md, "Resources").
   */
  readonly cgroupResources?: Readonly<Pick<Resources, 'memory' | 'cpu' | 'hugepageLimits' | 'unified'>>;
  /**
   * The process's oom_score_adj (-1000…1000), as the OCI spec's
   * `process.oomScoreAdj`; unset = the one runc inherits from gantryd. A
   * kubelet sets it per QoS class (docs/cri.md, "Resources").
   */
  readonly oomScoreAdj?: number;
  /** Capability names with or without CAP_ ("NET_ADMIN", "CAP_SYS_TIME", "ALL"). */
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly network: NetworkMode;
  readonly restartPolicy: RestartPolicy;
  /** Overrides the image's; `disabled` = `--no-healthcheck`. */
  readonly healthcheck?: HealthcheckSpec | { readonly disabled: true };
  readonly tty: boolean;
  /** `-i`: keep stdin open for attach. */
  readonly openStdin: boolean;
  /** A client's end of stdin does not close the container's (a CRI container without stdin_once); absent: it does, as Docker's StdinOnce. */
  readonly keepStdinOpen?: boolean;
  /** Default: the image's StopSignal, else SIGTERM. */
  readonly stopSignal?: string;
  /** Seconds between the stop signal and SIGKILL; default 10. */
  readonly stopTimeoutSeconds?: number;
  /** `--rm`: remove once it exits (and is not restarted). */
  readonly autoRemove: boolean;
  /** `--privileged` (see privileges.ts); absent in records written before it existed. */
  readonly privileged?: boolean;
  readonly devices?: readonly DeviceMapping[];
  /** Unset: the daemon's default (private on cgroup v2, host on v1). */
  readonly cgroupns?: CgroupnsMode;
  /** `--security-opt seccomp=…`: undefined = the default profile; 'unconfined'; or a Docker-format profile's JSON text. */
  readonly seccompProfile?: string;
  /** `--security-opt no-new-privileges`; the daemon's default is filled in at create. */
  readonly noNewPrivileges?: boolean;
  /** `--security-opt apparmor=…`: undefined = gantry-default where the host has AppArmor; 'unconfined'; or a profile name. */
  readonly apparmorProfile?: string;
  /**
   * Groups the process gets besides its primary one (a CRI container's
   * `supplemental_groups`): `gids` always, and with policy `merge` also the
   * groups of the image's /etc/group that list the user, even when a group
   * was named (containerd's rule; `strict`: only `gids`). Unset: Docker's
   * rule (runtime/oci/specgen/user.ts).
   */
  readonly supplementalGroups?: { readonly gids: readonly number[]; readonly policy: 'merge' | 'strict' };
  /** Paths masked in the container; set (non-empty), they replace Docker's list. `--privileged` masks none. */
  readonly maskedPaths?: readonly string[];
  /** Paths made read-only in the container; set (non-empty), they replace Docker's list. `--privileged` has none. */
  readonly readonlyPaths?: readonly string[];
  /** Namespaced kernel parameters (a CRI pod's `sysctls`), set over Docker's network defaults. */
  readonly sysctls?: Readonly<Record<string, string>>;
  /**
   * The IPC, PID and UTS namespaces, as Docker's `--ipc`/`--pid`/`--uts`:
   * undefined = a private one, `host` = the host's, `container:<id>` = that
   * running container's. CRI pods use them to share the infra process's
   * namespaces (docs/cri.md).
   */
  readonly ipcMode?: string;
  readonly pidMode?: string;
  readonly utsMode?: string;
  /**
   * The namespace of the object, as containerd's: unset for Docker-style
   * containers, `k8s.io` for CRI pods and containers. Namespaced containers
   * are listed only when a `namespace=` filter asks for them.
   */
  readonly namespace?: string;
  /** A log file of its own (CRI `log_directory/log_path`) instead of the record's; gantryd does not rotate it. */
  readonly logPath?: string;
  /** What the CRI keeps with the record (runtime/cri/records.ts), as JSON text: opaque here. */
  readonly cri?: string;
}

export interface HealthState {
  readonly status: HealthStatus;
  readonly failingStreak: number;
  /** The last few probes, newest last (Docker keeps 5). */
  readonly log: readonly HealthProbeResult[];
}

export interface HealthProbeResult {
  readonly start: string;
  readonly end: string;
  readonly exitCode: number;
  readonly output: string;
}

export interface ContainerState {
  readonly status: ContainerStatus;
  /** Host pid of the container's init process while it runs; 0 otherwise. */
  readonly pid: number;
  /** conmon's pid while the task exists; 0 otherwise. */
  readonly monitorPid: number;
  readonly exitCode: number;
  readonly oomKilled: boolean;
  /** ISO times; '' when it never happened. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Restarts done by the restart policy since the last start by the user. */
  readonly restartCount: number;
  /** Set by `stop` (and `kill` by the user): `unless-stopped` and `always` leave it down until started again. */
  readonly stoppedByUser: boolean;
  readonly health: HealthState;
  /** Why the last start failed, if it did. */
  readonly error: string;
}

export interface Container {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly config: ContainerConfig;
  /** Normalised name of the image record used (or its ID when run by ID). */
  readonly imageName: string;
  /** Config digest of the image: what keeps the image from being removed. */
  readonly imageId: string;
  /**
   * The image config's runtime part, copied at create: the container keeps
   * running as made even if the image is removed or its tag moves.
   */
  readonly imageConfig: ImageRuntimeConfig;
  /** The process the task runs: resolved entrypoint + cmd. */
  readonly args: readonly string[];
  /** Snapshotter and key of the root filesystem snapshot. */
  readonly snapshotter: string;
  readonly snapshotKey: string;
  readonly state: ContainerState;
}

export const DEFAULT_STOP_TIMEOUT_SECONDS = 10;

export function initialState(): ContainerState {
  return {
    status: 'created',
    pid: 0,
    monitorPid: 0,
    exitCode: 0,
    oomKilled: false,
    startedAt: '',
    finishedAt: '',
    restartCount: 0,
    stoppedByUser: false,
    health: { status: 'none', failingStreak: 0, log: [] },
    error: '',
  };
}

/** Event topics of container transitions; the event's id is the container ID. */
export const ContainerTopics = {
  create: '/containers/create',
  start: '/containers/start',
  die: '/containers/die',
  oom: '/containers/oom',
  stop: '/containers/stop',
  kill: '/containers/kill',
  pause: '/containers/pause',
  unpause: '/containers/unpause',
  restart: '/containers/restart',
  healthStatus: '/containers/health_status',
  destroy: '/containers/destroy',
} as const;
