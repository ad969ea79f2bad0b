/**
 * What the container service needs from the rest of gantryd, each as the
 * few methods it calls: the record store (FileContainerStore), images
 * (ImageService), snapshots (a Snapshotter), the task side (Launcher, over
 * conmon and runc), health checks (HealthMonitor), the event log (a
 * Publisher) and a clock with timers. The daemon wires the real classes
 * (daemon/containers.ts); the unit tests wire fakes.
 */
import type { Ctx } from '../context';
import type { Publisher } from '../events/events';
import type { ContainerConfig as ImageRuntimeConfig } from '../images/manifest';
import type { EffectivePrivileges } from '../oci/specgen/privileges';
import type { CreatedTask } from '../tasks/tasks';
import type { Logger } from '../util/log';
import type { Container, ContainerConfig, ContainerState, HealthcheckSpec } from './containers';

/** Records, one per container, persisted on every change (store.ts). */
export interface ContainerRecords {
  get(id: string): Container | undefined;
  list(): Container[];
  /** Exact ID, exact name, then a unique ID prefix; NotFound / Conflict (ambiguous). */
  resolve(ref: string): Container;
  /** AlreadyExists when the name is taken. */
  add(container: Container): Promise<void>;
  /** NotFound when the record is gone. */
  update(id: string, change: (current: Container) => Container): Promise<Container>;
  /** Forgets the record and deletes its directory; idempotent. */
  delete(id: string): Promise<void>;
  /** The container's log file. */
  logPathOf(id: string): string;
}

/** The image a container is made from. */
export interface ContainerImages {
  resolve(nameOrId: string): {
    readonly name: string;
    readonly id: string;
    readonly snapshot?: { readonly snapshotter: string; readonly chainId: string };
  };
  inspect(ctx: Ctx, nameOrId: string): Promise<{ readonly config: { readonly config?: ImageRuntimeConfig } }>;
}

/** The container's root filesystem snapshot. */
export interface ContainerSnapshots {
  readonly name: string;
  prepare(ctx: Ctx, key: string, parent: string): Promise<unknown>;
  /** NotFound when there is no such snapshot. */
  remove(ctx: Ctx, key: string): Promise<void>;
}

/** The task side: bundle, conmon and runc (launcher.ts). */
export interface ContainerTasks {
  /** The config with the daemon's defaults filled in (at create). */
  withDefaults(config: ContainerConfig): ContainerConfig;
  privilegesOf(config: ContainerConfig): EffectivePrivileges;
  bundleOf(id: string): string;
  /** Mounts the rootfs and writes the bundle; where an unknown user is refused. */
  writeBundle(ctx: Ctx, container: Container): Promise<void>;
  /** Creates and starts the task; nothing of the task is left on failure. */
  launch(ctx: Ctx, container: Container, logPath: string, afterCreate?: (bundle: string) => Promise<void>): Promise<CreatedTask>;
  /** NotFound when the task is gone. */
  kill(id: string, signal: string, opts: { all: boolean }): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** True when runc has no task or it has stopped. */
  isGone(id: string): Promise<boolean>;
  readExit(id: string): Promise<number | undefined>;
  clearExit(id: string): Promise<void>;
  oomKilled(id: string): Promise<boolean>;
  /** After the task ended: forget it in runc, unmount the rootfs. Idempotent. */
  teardown(id: string): Promise<void>;
  /** Removes the bundle and all else of the task; the task must be gone. */
  destroy(id: string): Promise<void>;
  rotateLog(id: string, logPath: string): void;
}

/**
 * Named and anonymous volumes (runtime/volumes/, docs/volumes.md). Absent:
 * a container asking for a volume is refused.
 */
export interface ContainerVolumes {
  /**
   * At create, before the record is stored: names anonymous volumes, adds
   * the image's VOLUMEs, expands --volumes-from, makes missing volumes and
   * holds them (so nothing removes them) until `done`. InvalidArgument for
   * conflicting mount points, NotFound for a --volumes-from that is not there.
   */
  prepare(ctx: Ctx, config: ContainerConfig, image: ImageRuntimeConfig): Promise<{ config: ContainerConfig; done(): void }>;
  /** After the container is gone: with `removeAnonymous` (rm -v, --rm) its anonymous volumes no one else uses go too. */
  released(config: ContainerConfig, removeAnonymous: boolean): Promise<void>;
}

/** Where health probe results go: the service records them under the container's lock. */
export type HealthRecorder = (id: string, update: (state: ContainerState) => Partial<ContainerState>) => Promise<void>;

/** Health checks (health.ts). */
export interface ContainerHealth {
  configOf(container: Container): HealthcheckSpec | undefined;
  /** Starts probing (no-op without a check, or when already probing); results go to `record`. */
  watch(container: Container, record: HealthRecorder): void;
  suspend(id: string): void;
  stop(id: string): void;
  close(): void;
}

export interface Timer {
  cancel(): void;
}

/** Time and timers (restart backoff, stop timeouts); the tests drive a fake one. */
export interface Clock {
  now(): Date;
  after(ms: number, run: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => new Date(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface ContainerServiceDeps {
  readonly store: ContainerRecords;
  readonly images: ContainerImages;
  readonly snapshotter: ContainerSnapshots;
  readonly tasks: ContainerTasks;
  readonly events: Publisher;
  readonly health: ContainerHealth;
  readonly log: Logger;
  readonly volumes?: ContainerVolumes;
  /** Default: the system clock. */
  readonly clock?: Clock;
}
