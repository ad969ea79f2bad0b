/**
 * Brings a container's task up and takes it down: the part of the container
 * service that touches the host (snapshot mounts, the bundle directory, the
 * OCI spec, conmon and runc). The service decides *when*; this decides *how*.
 *
 * Layout (state dir, gone after a reboot — everything here is rebuilt by
 * `launch`):
 *   <state>/tasks/<id>/            the OCI bundle: config.json, conmon's files
 *   <state>/tasks/<id>/rootfs      the snapshot's mount (never under the
 *                                  snapshotter's root: its cleanup unmounts there)
 *   <state>/tasks/<id>/etc/        generated hosts, resolv.conf, hostname
 *   <state>/tasks/<id>/persist/    conmon's exit and oom files
 *   <state>/exits/<id>             conmon's exit file (ExitWatcher)
 *   <state>/runc/                  runc's own state (--root)
 *   <state>/netns/<id>             the network namespace of a container on a
 *                                  CNI network, attached by `launch` before
 *                                  `runc create`, detached by `teardown`
 *                                  (containers/networking.ts)
 * The container's log lives with its record under the data root.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { background, type Ctx } from '../context';
import { failedPrecondition, isFailedPrecondition } from '../errdefs/errdefs';
import type { Logger } from '../util/log';
import { isMountPoint, mount, unmount } from '../mount/mounter';
import type { Snapshotter } from '../snapshots/snapshots';
import { createTask, reopenLog, wasOomKilled } from '../tasks/conmon';
import { LogRotator } from '../tasks/logs/rotate';
import type { ExitWatcher } from '../tasks/exits';
import type { Runc } from '../tasks/runc';
import type { CreatedTask } from '../tasks/tasks';
import { writeFileAtomic } from '../util/atomicfile';
import { DEFAULT_PROFILE_NAME, type AppArmorHost } from '../oci/specgen/apparmor/apparmor';
import { KernelAppArmor } from '../oci/specgen/apparmor/host';
import { isCniNetwork, joinedContainer, type BindMount, type Container, type ContainerConfig } from './containers';
import type { ContainerNetworks, NetworkEtcFiles } from './networking';
import type { ContainerTasks } from './serviceDeps';
import { writeEtcFiles } from '../oci/specgen/etcfiles';
import { capabilitiesFromMask } from '../oci/specgen/capabilities';
import { buildSpec, containerHostname, userSpecOf, type EtcFilePaths } from '../oci/specgen/build';
import { resolveUser } from '../oci/specgen/user';
import { readdirOrEmpty } from '../util/files';
import { settleAll } from '../util/concurrency';
import { hostDevices, isCgroupV2, prepareForUserns, resolveDevices } from '../oci/specgen/hostdevices';
import { applyRootless } from '../oci/specgen/rootless';
import { applyPrivileges, effectiveCapabilities, effectiveCgroupns, type EffectivePrivileges, type IdMap } from '../oci/specgen/privileges';

/**
 * Runs between `runc create` and `runc start`: the task exists (its attach
 * socket too) but the process has not run yet — the moment to attach without
 * missing output.
 */
export type AfterCreate = (bundle: string) => Promise<void>;

/** Volumes as the launcher needs them (runtime/volumes/ implements it). */
export interface LauncherVolumes {
  /** The host directory to bind for the volume; mounts a volume with options at first use. */
  mountpoint(name: string): Promise<string>;
  /** Fills an empty volume from the image's content at `destination` (Docker's copy-up). */
  populate(rootfs: string, destination: string, name: string): Promise<void>;
}

export interface LauncherConfig {
  readonly stateDir: string;
  readonly runcPath: string;
  readonly conmonPath: string;
  readonly runc: Runc;
  readonly snapshotter: Snapshotter;
  /** Watches `exitDir`; exit files are removed through it so it reports a re-used ID again. */
  readonly exits: ExitWatcher;
  /** gantryd rotates a container's log at this size, keeping one previous file (tasks/logs/logs.ts). */
  readonly logMaxBytes: number;
  readonly log: Logger;
  /** The daemon's `--userns-remap` mapping: containers run in a user namespace with it. */
  readonly idMap?: IdMap;
  /** `gantry daemon --no-new-privileges`: the default of containers that do not say. */
  readonly noNewPrivileges?: boolean;
  /** A rootless daemon (docs/rootless.md): containers share its user namespace; no cgroups (oci/specgen/rootless.ts). */
  readonly rootless?: { readonly mappedGids: number };
  /** AppArmor on this host; default: the kernel's (apparmor/host.ts). */
  readonly apparmor?: AppArmorHost;
  /** CNI networks; absent: only `none` and `host` (unit tests). */
  readonly networks?: ContainerNetworks;
  /** Named volumes; absent: a container with volumes is refused at create. */
  readonly volumes?: LauncherVolumes;
}

const LOG_CHECK_INTERVAL_MS = 5_000;

/** Where each container's cgroups go (cgroupfs manager, relative to each hierarchy's root). */
export function cgroupsPathOf(id: string): string {
  return `/gantry/${id}`;
}

export class Launcher implements ContainerTasks {
  readonly exitDir: string;
  readonly runcRoot: string;
  private readonly tasksDir: string;
  private readonly rotators = new Map<string, LogRotator>();
  /**
   * The namespace paths of the running containers each bundle joins
   * (`container:` modes), as last written by this process: a start writes
   * such a bundle again only when they changed (the target restarted, or
   * did not run at create). Every CRI container joins its pod's infra.
   */
  private readonly joinsWritten = new Map<string, string>();
  readonly apparmor: AppArmorHost;

  constructor(private readonly config: LauncherConfig) {
    this.exitDir = config.exits.exitDir;
    this.runcRoot = path.join(config.stateDir, 'runc');
    this.tasksDir = path.join(config.stateDir, 'tasks');
    this.apparmor = config.apparmor ?? new KernelAppArmor();
  }

  /** The config with the daemon's defaults filled in, at create (Docker fixes them then too). */
  withDefaults(config: ContainerConfig): ContainerConfig {
    return config.noNewPrivileges === undefined ? { ...config, noNewPrivileges: this.config.noNewPrivileges ?? false } : config;
  }

  bundleOf(id: string): string {
    return path.join(this.tasksDir, id);
  }

  rootfsOf(id: string): string {
    return path.join(this.bundleOf(id), 'rootfs');
  }

  persistDirOf(id: string): string {
    return path.join(this.bundleOf(id), 'persist');
  }

  /** The privilege settings a container with `config` runs with here. */
  privilegesOf(config: ContainerConfig): EffectivePrivileges {
    return {
      cgroupnsMode: effectiveCgroupns(config, HOST.cgroupV2),
      capabilities: effectiveCapabilities(config, HOST.capabilities),
      idMap: this.config.idMap,
    };
  }

  /** IDs that have a bundle directory (for recovery). */
  bundleIds(): Promise<string[]> {
    return readdirOrEmpty(this.tasksDir);
  }

  /** Mounts the container's snapshot at its rootfs unless it already is (idempotent). */
  async mountRootfs(ctx: Ctx, container: Container): Promise<string> {
    const target = this.rootfsOf(container.id);
    await fs.promises.mkdir(target, { recursive: true, mode: 0o700 });
    if (!(await isMountPoint(target))) {
      await mount(await this.config.snapshotter.mounts(ctx, container.snapshotKey), target);
    }
    return target;
  }

  /**
   * Writes the bundle (etc files, config.json) for the container as it is
   * configured now. Resolving the user reads the image's /etc/passwd, so this
   * is where an unknown user is refused.
   */
  async writeBundle(ctx: Ctx, container: Container, starting = false): Promise<void> {
    const rootfs = await this.mountRootfs(ctx, container);
    const bundle = this.bundleOf(container.id);
    const hostHostname = os.hostname();
    await this.config.networks?.validate(container);
    // `container:` (at start: the target must run): its namespace, hostname and /etc files.
    const join = await this.joinOf(container, starting);
    const hostname = join?.hostname ?? containerHostname(container.id, container.config, hostHostname);
    const etc = await writeEtcFiles(path.join(bundle, 'etc'), { hostname, network: container.config.network });
    const user = await resolveUser(rootfs, userSpecOf(container.config, container.imageConfig), container.config.supplementalGroups);
    const volumeBinds = await this.volumeBinds(container, rootfs, !starting);
    // Under --userns-remap runc makes the namespace (see launch).
    const netnsPath = join?.netns ?? (this.config.idMap ? undefined : this.config.networks?.netnsPathOf(container));
    const namespacePaths = this.sharedNamespaces(container, starting);
    const spec = buildSpec({
      id: container.id,
      config: join ? { ...container.config, hostname } : container.config,
      image: container.imageConfig,
      user,
      rootfs,
      etcFiles: join?.etcFiles ?? etc,
      cgroupsPath: cgroupsPathOf(container.id),
      nofileHardLimit: HOST.nofileHardLimit,
      hostHostname,
      hostCapabilities: HOST.capabilities,
      swapAccounting: HOST.swapAccounting,
      apparmor: this.apparmor.enabled,
      netnsPath,
      volumeBinds,
      namespacePaths,
    });
    applyPrivileges(spec, {
      config: container.config,
      hostCapabilities: HOST.capabilities,
      hostDevices: container.config.privileged ? hostDevices() : [],
      devices: resolveDevices(container.config.devices ?? []),
      cgroupV2: HOST.cgroupV2,
      idMap: this.config.idMap,
    });
    if (this.config.rootless)
      applyRootless(spec, { config: container.config, cgroupV2: HOST.cgroupV2, mappedGids: this.config.rootless.mappedGids });
    if (this.config.idMap) await prepareForUserns(bundle, rootfs, this.config.idMap);
    if (spec.process?.apparmorProfile === DEFAULT_PROFILE_NAME) await this.apparmor.ensureDefaultProfile();
    await writeFileAtomic(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2), 0o600, { durable: false });
    this.joinsWritten.set(container.id, JSON.stringify([join?.netns, namespacePaths]));
  }

  /** What writeBundle would join now (the targets must run), in the form joinsWritten keeps. */
  private joinsNow(container: Container): string {
    const target = joinedContainer(container.config.network) ? this.config.networks?.joinTarget(container, true) : undefined;
    return JSON.stringify([target ? `/proc/${target.state.pid}/ns/net` : undefined, this.sharedNamespaces(container, true)]);
  }

  /**
   * The container's volumes as binds of their directories. At create
   * (`populate`) an empty volume is first filled from the image, unless the
   * mount says nocopy (docs/volumes.md, copy-up).
   */
  private async volumeBinds(container: Container, rootfs: string, populate: boolean): Promise<BindMount[]> {
    const wanted = container.config.volumes ?? [];
    if (!wanted.length) return [];
    const volumes = this.config.volumes;
    if (!volumes) throw failedPrecondition('volumes are unavailable on this daemon');
    const binds: BindMount[] = [];
    for (const v of wanted) {
      if (populate && !v.noCopy) await volumes.populate(rootfs, v.destination, v.name);
      binds.push({ source: await volumes.mountpoint(v.name), destination: v.destination, readOnly: v.readOnly });
    }
    return binds;
  }

  /**
   * `--network container:<id>`: the running target's namespace
   * (`/proc/<pid>/ns/net`), hostname and /etc/hosts and resolv.conf (its
   * bundle's files, bind-mounted: a change made in place, as `network
   * connect` does, shows in both). Undefined for other modes, and at create
   * while the target does not run (start asks again, and then requires it).
   */
  private async joinOf(
    container: Container,
    required: boolean,
  ): Promise<{ netns: string; hostname: string; etcFiles: EtcFilePaths } | undefined> {
    if (!joinedContainer(container.config.network)) return undefined;
    if (!this.config.networks) throw failedPrecondition('--network container: is unavailable here');
    // Each container has a user namespace of its own there: the joiner would not own the target's network namespace (sysfs, sysctls).
    if (this.config.idMap) throw failedPrecondition('--network container: is not supported under --userns-remap');
    const target = this.config.networks.joinTarget(container, required);
    if (!target) return undefined;
    const etc = path.join(this.bundleOf(target.id), 'etc');
    const hostname = (await fs.promises.readFile(path.join(etc, 'hostname'), 'utf8')).trim();
    return {
      netns: `/proc/${target.state.pid}/ns/net`,
      hostname,
      etcFiles: { hostname: path.join(etc, 'hostname'), hosts: path.join(etc, 'hosts'), resolvConf: path.join(etc, 'resolv.conf') },
    };
  }

  /**
   * `container:` IPC/PID/UTS modes (CRI pods): the running target's
   * `/proc/<pid>/ns/<type>`. At create, while the target does not run, a
   * placeholder (start writes the bundle again and then requires it).
   */
  private sharedNamespaces(container: Container, required: boolean): { ipc?: string; pid?: string; uts?: string } {
    const out: { ipc?: string; pid?: string; uts?: string } = {};
    const modes = { ipc: container.config.ipcMode, pid: container.config.pidMode, uts: container.config.utsMode };
    for (const [type, mode] of Object.entries(modes) as Array<['ipc' | 'pid' | 'uts', string | undefined]>) {
      if (!mode?.startsWith('container:')) continue;
      if (!this.config.networks) throw failedPrecondition(`--${type} container: is unavailable here`);
      const target = this.config.networks.joinTarget({ ...container, config: { ...container.config, network: mode } }, required);
      out[type] = target ? `/proc/${target.state.pid}/ns/${type}` : `/proc/self/ns/${type}`;
    }
    return out;
  }

  /**
   * Creates and starts the task: bundle → conmon + `runc create` → `runc
   * start`. On failure nothing of the task is left (runc state, conmon, exit
   * file); the rootfs stays mounted for the next attempt or for removal.
   */
  async launch(ctx: Ctx, container: Container, logPath: string, afterCreate?: AfterCreate): Promise<CreatedTask> {
    const { id } = container;
    // Written at create and still current unless a reboot wiped the state dir or the rootfs was unmounted.
    // `container:` is written again when the target's task is not the one the bundle joins (a CRI container's
    // StartContainer right after its CreateContainer joins the same infra: its bundle is kept, docs/performance.md).
    const c = container.config;
    const joined = [c.network, c.ipcMode, c.pidMode, c.utsMode].some((m) => m !== undefined && joinedContainer(m) !== undefined);
    const fresh =
      (!joined || this.joinsWritten.get(id) === this.joinsNow(container)) &&
      fs.existsSync(path.join(this.bundleOf(id), 'config.json')) &&
      (await isMountPoint(this.rootfsOf(id)));
    if (!fresh) await this.writeBundle(ctx, container, true);
    await this.config.runc.delete(id, { force: true });
    await this.clearExit(id);
    await fs.promises.rm(this.persistDirOf(id), { recursive: true, force: true });
    const networks = this.config.networks;
    const restarting = container.state.status === 'restarting';
    const cni = networks !== undefined && isCniNetwork(container.config.network);
    // Under --userns-remap the namespace must belong to the container's user
    // namespace (sysfs, sysctls and exec need that): runc makes it, and it is
    // attached between `runc create` and `runc start`.
    const late = cni && this.config.idMap !== undefined;
    let task: CreatedTask;
    try {
      // The plugins' ADDs run while conmon and `runc create` set the task up
      // in the namespace (runc needs only its file; the process runs at
      // `runc start`, after the ADDs and the /etc files): the attachment
      // costs the run only what is left of it. docs/networking.md.
      let attaching: Promise<NetworkEtcFiles | undefined> | undefined;
      if (cni && !late) {
        let sandboxReady!: () => void;
        const sandbox = new Promise<void>((resolve) => (sandboxReady = resolve));
        attaching = networks.attach(ctx, container, restarting, undefined, sandboxReady);
        // Settled here too, so a failed create never leaves it unhandled.
        attaching.catch(() => undefined);
        await Promise.race([sandbox, attaching]);
      }
      task = await this.createAndStart(ctx, container, logPath, async (created) => {
        const files = late ? await networks.attach(ctx, container, restarting, `/proc/${created.pid}/ns/net`) : await attaching;
        if (files) await this.writeNetworkEtc(container, files, true);
        await afterCreate?.(this.bundleOf(id));
      });
    } catch (e) {
      if (cni)
        await networks
          .detach(background(), container, false)
          .catch((err: unknown) => this.config.log.warn('releasing the network of a failed start failed', { id, error: err }));
      throw e;
    }
    // A log of its own (CRI) is rotated by its owner (the kubelet), which then asks for a reopen.
    if (!c.logPath) this.rotateLog(id, logPath);
    return task;
  }

  /**
   * The container's /etc/hosts and resolv.conf for its network. Before
   * `runc create` they are replaced atomically; after it (`inPlace`) the
   * container's bind mounts hold the files, so they are rewritten in place —
   * nothing reads them before `runc start`.
   */
  private async writeNetworkEtc(container: Container, files: NetworkEtcFiles, inPlace: boolean): Promise<void> {
    const dir = path.join(this.bundleOf(container.id), 'etc');
    if (inPlace) {
      await fs.promises.writeFile(path.join(dir, 'hosts'), files.hosts);
      await fs.promises.writeFile(path.join(dir, 'resolv.conf'), files.resolvConf);
      return;
    }
    const hostname = containerHostname(container.id, container.config, os.hostname());
    await writeEtcFiles(dir, { hostname, network: container.config.network, ...files });
  }

  private async createAndStart(
    ctx: Ctx,
    container: Container,
    logPath: string,
    beforeStart: (task: CreatedTask) => Promise<void>,
  ): Promise<CreatedTask> {
    const { id } = container;
    const task = await createTask(ctx, {
      id,
      bundle: this.bundleOf(id),
      conmonPath: this.config.conmonPath,
      runcPath: this.config.runcPath,
      runcRoot: this.runcRoot,
      logPath,
      // conmon's own limit drops the whole log, so it is only a backstop for while gantryd is down.
      logSizeMax: 4 * this.config.logMaxBytes,
      exitDir: this.exitDir,
      persistDir: this.persistDirOf(id),
      tty: container.config.tty,
      stdin: container.config.openStdin,
      // Docker's StdinOnce: the first attached client that closes stdin closes it for the container (EOF); CRI's stdin_once=false keeps it open.
      leaveStdinOpen: container.config.keepStdinOpen ?? false,
    });
    try {
      await beforeStart(task);
      await this.config.runc.start(id);
    } catch (e) {
      await this.config.runc.delete(id, { force: true }).catch(() => undefined);
      await this.clearExit(id);
      throw e;
    }
    return task;
  }

  /** Keeps the running task's log under the size limit (also for tasks adopted at start-up). */
  rotateLog(id: string, logPath: string): void {
    if (this.rotators.has(id)) return;
    const bundle = this.bundleOf(id);
    const rotator = new LogRotator({
      path: logPath,
      maxBytes: this.config.logMaxBytes,
      logger: this.config.log,
      reopen: async () => {
        try {
          reopenLog(bundle);
        } catch (e) {
          // No conmon (the task just ended): the next start opens a fresh file.
          if (!isFailedPrecondition(e)) throw e;
        }
      },
    });
    rotator.start(LOG_CHECK_INTERVAL_MS);
    this.rotators.set(id, rotator);
  }

  kill(id: string, signal: string, opts: { all: boolean }): Promise<void> {
    return this.config.runc.kill(id, signal, opts);
  }

  pause(id: string): Promise<void> {
    return this.config.runc.pause(id);
  }

  resume(id: string): Promise<void> {
    return this.config.runc.resume(id);
  }

  /** True when runc has no task by this ID, or it has stopped. */
  async isGone(id: string): Promise<boolean> {
    const state = await this.config.runc.state(id);
    return !state || state.status === 'stopped';
  }

  oomKilled(id: string): Promise<boolean> {
    return wasOomKilled(this.persistDirOf(id));
  }

  /** After the task ended: forget it in runc, release its network, unmount the rootfs. Idempotent. */
  async teardown(id: string, removing = false): Promise<void> {
    this.rotators.get(id)?.close();
    this.rotators.delete(id);
    // The network's DELs need only the namespace file, which outlives the
    // task: they run while runc forgets the task and the rootfs is unmounted,
    // all on the way out of a `run --rm` (docs/networking.md).
    await settleAll([
      this.config.networks?.detach(background(), { id, name: '' }, removing),
      this.config.runc.delete(id, { force: true }).then(() => this.unmountRootfs(id)),
    ]);
  }

  async unmountRootfs(id: string): Promise<void> {
    const target = this.rootfsOf(id);
    if (await isMountPoint(target).catch(() => false)) await unmount(target);
  }

  /** Removes everything of the container under the state dir. The task must be gone. */
  async destroy(id: string): Promise<void> {
    this.joinsWritten.delete(id);
    await this.teardown(id, true);
    if (await isMountPoint(this.rootfsOf(id)).catch(() => false)) {
      throw failedPrecondition(`rootfs of ${id} is still mounted`);
    }
    await fs.promises.rm(this.bundleOf(id), { recursive: true, force: true });
    await this.clearExit(id);
  }

  clearExit(id: string): Promise<void> {
    return this.config.exits.clear(id);
  }

  readExit(id: string): Promise<number | undefined> {
    return this.config.exits.readExit(id);
  }
}

/**
 * What this host lets containers have, read once: the hard RLIMIT_NOFILE
 * (containers may not exceed it), the capabilities in
 * gantryd's bounding set (cap-add ALL cannot grant more), and whether the
 * memory cgroup accounts swap (runc fails to set a swap limit otherwise).
 */
const HOST = {
  nofileHardLimit: nofileHardLimit(),
  capabilities: boundingCapabilities(),
  swapAccounting: fs.existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
  cgroupV2: isCgroupV2(),
};

/** Whether the memory cgroup accounts swap (a swap limit can be set): the CRI's resource updates follow create's rule. */
export function hostSwapAccounting(): boolean {
  return HOST.swapAccounting;
}

function boundingCapabilities(): readonly string[] | undefined {
  try {
    const line = fs
      .readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapBnd:'));
    return line ? capabilitiesFromMask(line.slice('CapBnd:'.length)) : undefined;
  } catch {
    return undefined;
  }
}

/** The hard RLIMIT_NOFILE gantryd runs with: containers may not exceed it (no CAP_SYS_RESOURCE needed). */
function nofileHardLimit(): number {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const hard = line?.split(/\s{2,}/)[2];
    return hard === undefined || hard === 'unlimited' ? 1048576 : Number(hard);
  } catch {
    return 1024;
  }
}
