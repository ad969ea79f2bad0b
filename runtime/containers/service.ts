/**
 * The container service: Docker's container verbs over the record store, the
 * launcher (bundle, conmon, runc) and the event log.
 *
 * States and transitions (the record's status; the task's own state is runc's)
 *
 *   create ─► created ──start──► running ◄─unpause─ paused
 *                ▲                  │ └──pause──────► │
 *                │                  ▼ exit            │ (stop/kill: resumed, then signalled)
 *                │   ┌──────── exited ◄───────────────┘
 *                │   │  policy says restart: restarting ──(backoff)──► running
 *                └───┴── start (by the user) ──► running
 *   remove: from created/exited (or any, with force) ─► gone
 *
 * Concurrency: every operation on one container, and the handling of its
 * exit, runs under that container's lock (KeyedMutex), so each sees the
 * other's result. An operation that must wait for the task to exit (stop,
 * remove -f) waits on the raw exit signal, which fires before the exit is
 * handled; it then reads the record again under the lock.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Ctx, cleanupSignal } from '../context';
import { conflict, describe, failedPrecondition, invalidArgument, isNotFound, notFound } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import type { ImageService } from '../images/service';
import type { Snapshotter } from '../snapshots/snapshots';
import type { Runc } from '../tasks/runc';
import type { RuncState } from '../tasks/tasks';
import type { Logger } from '../util/log';
import { KeyedMutex } from '../util/keyedMutex';
import {
  ContainerTopics,
  DEFAULT_STOP_TIMEOUT_SECONDS,
  initialState,
  type Container,
  type ContainerConfig,
  type ContainerState,
} from './containers';
import { matchesFilters, parseFilters } from './filters';
import type { HealthMonitor } from './health';
import type { EffectivePrivileges } from '../oci/specgen/privileges';
import type { AfterCreate, Launcher } from './launcher';
import { generateName } from './names';
import { parseSignal, validateContainerName } from '../options';
import { RestartScheduler, shouldRestart } from './restart';
import { resolveArgs } from '../oci/specgen/build';
import type { FileContainerStore } from './store';
import { ExitSignals } from './exitSignals';
import { ContainerWaiters, type WaitCondition } from './waiters';

export type { WaitCondition };

/** How long to wait for a SIGKILLed task to be reported gone before giving up. */
const KILL_GRACE_MS = 30_000;

export interface ContainerServiceDeps {
  readonly store: FileContainerStore;
  readonly images: ImageService;
  readonly snapshotter: Snapshotter;
  readonly launcher: Launcher;
  readonly runc: Runc;
  readonly events: Publisher;
  readonly health: HealthMonitor;
  readonly log: Logger;
}

export class ContainerService {
  private readonly lock = new KeyedMutex();
  private readonly exits = new ExitSignals();
  private readonly restarts: RestartScheduler;
  private readonly waiters = new ContainerWaiters();

  constructor(private readonly deps: ContainerServiceDeps) {
    this.restarts = new RestartScheduler((id) => this.restartByPolicy(id));
  }

  list(all: boolean, filters: readonly string[] = []): Container[] {
    const parsed = parseFilters(filters);
    return this.deps.store
      .list()
      .filter((c) => all || c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting')
      .filter((c) => matchesFilters(c, parsed))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  exists(id: string): boolean {
    return this.deps.store.get(id) !== undefined;
  }

  resolve(ref: string): Container {
    return this.deps.store.resolve(ref);
  }

  logPathOf(id: string): string {
    return path.join(this.deps.store.dirOf(id), 'container.log');
  }

  bundleOf(id: string): string {
    return this.deps.launcher.bundleOf(id);
  }

  /** The privilege settings in effect for a container (what inspect shows). */
  privilegesOf(c: Container): EffectivePrivileges {
    return this.deps.launcher.privilegesOf(c.config);
  }

  async create(ctx: Ctx, name: string, requested: ContainerConfig): Promise<Container> {
    const { store, images, snapshotter, launcher } = this.deps;
    const config = launcher.withDefaults(requested);
    if (name) validateContainerName(name);
    const image = images.resolve(config.image);
    if (!image.snapshot || image.snapshot.snapshotter !== snapshotter.name) {
      throw failedPrecondition(`image ${image.name} is not unpacked for the ${snapshotter.name} snapshotter; pull it again`);
    }
    const details = await images.inspect(ctx, image.id);
    const imageConfig = details.config.config ?? {};
    const args = resolveArgs(config, imageConfig);
    for (const m of config.mounts) await requireBindSource(m.source);
    const id = randomBytes(32).toString('hex');
    const container: Container = {
      id,
      name: name ? name.replace(/^\//, '') : generateName((n) => this.isNameTaken(n)),
      createdAt: new Date().toISOString(),
      config,
      imageName: image.name,
      imageId: image.id,
      imageConfig,
      args,
      snapshotter: snapshotter.name,
      snapshotKey: `container-${id}`,
      state: initialState(),
    };
    await store.add(container);
    try {
      await snapshotter.prepare(ctx, container.snapshotKey, image.snapshot.chainId);
      await launcher.writeBundle(ctx, container);
    } catch (e) {
      await this.destroyLeftovers(container).catch((cleanupError: unknown) =>
        this.deps.log.warn('cleanup after a failed create failed', { id, error: cleanupError }),
      );
      throw e;
    }
    this.publish(ContainerTopics.create, container);
    return container;
  }

  /** `afterCreate` runs once the task exists and before it runs (attach there to miss nothing). */
  start(ctx: Ctx, ref: string, afterCreate?: AfterCreate): Promise<Container> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      if (container.state.status === 'running') return container;
      if (container.state.status === 'paused') throw failedPrecondition(`container ${container.name} is paused; unpause it instead`);
      this.restarts.cancel(id);
      return this.startTask(ctx, container, 'user', afterCreate);
    });
  }

  async stop(ctx: Ctx, ref: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<Container> {
    const { id } = this.resolve(ref);
    await this.lock.run(id, async () => {
      const container = this.current(id);
      if (container.state.status === 'restarting') {
        this.restarts.cancel(id);
        await this.setState(id, { status: 'exited', stoppedByUser: true });
        this.publish(ContainerTopics.stop, container);
        return;
      }
      if (!isActive(container)) return;
      await this.setState(id, { stoppedByUser: true });
      const signal = parseSignal(opts.signal || container.config.stopSignal || container.imageConfig.StopSignal || 'SIGTERM').name;
      const timeout = opts.timeoutSeconds ?? container.config.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS;
      await this.terminate(ctx, container, signal, timeout);
      this.publish(ContainerTopics.stop, container);
    });
    return this.lock.run(id, async () => this.current(id));
  }

  async restart(ctx: Ctx, ref: string, timeoutSeconds?: number): Promise<Container> {
    const { id } = this.resolve(ref);
    await this.stop(ctx, id, { timeoutSeconds });
    const container = await this.start(ctx, id);
    this.publish(ContainerTopics.restart, container);
    return container;
  }

  kill(_ctx: Ctx, ref: string, signalName: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      if (!isActive(container)) throw failedPrecondition(`container ${container.name} is not running`);
      const signal = parseSignal(signalName || 'SIGKILL');
      const stopSignal = parseSignal(container.config.stopSignal || container.imageConfig.StopSignal || 'SIGTERM').name;
      // Docker: a kill meant to end the container counts as a manual stop, so the policy leaves it down.
      if (signal.name === 'SIGKILL' || signal.name === stopSignal) await this.setState(id, { stoppedByUser: true });
      // A frozen process cannot act on a signal, not even die of SIGKILL: thaw it first, as Docker does.
      if (container.state.status === 'paused') {
        await this.deps.runc.resume(id);
        await this.setState(id, { status: 'running' });
        this.deps.health.watch(this.current(id));
      }
      await this.deps.runc.kill(id, signal.name, { all: signal.name === 'SIGKILL' });
      this.publish(ContainerTopics.kill, container, { signal: signal.name });
    });
  }

  pause(_ctx: Ctx, ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      if (container.state.status === 'paused') throw failedPrecondition(`container ${container.name} is already paused`);
      if (container.state.status !== 'running') throw failedPrecondition(`container ${container.name} is not running`);
      await this.deps.runc.pause(id);
      this.deps.health.suspend(id);
      this.publish(ContainerTopics.pause, await this.setState(id, { status: 'paused' }));
    });
  }

  unpause(_ctx: Ctx, ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      if (container.state.status !== 'paused') throw failedPrecondition(`container ${container.name} is not paused`);
      await this.deps.runc.resume(id);
      const resumed = await this.setState(id, { status: 'running' });
      this.deps.health.watch(resumed);
      this.publish(ContainerTopics.unpause, resumed);
    });
  }

  remove(ctx: Ctx, ref: string, force: boolean): Promise<Container> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      if ((isActive(container) || container.state.status === 'restarting') && !force) {
        throw conflict(
          `cannot remove container "/${container.name}": container is ${container.state.status}: stop the container before removing or force remove`,
        );
      }
      await this.removeLocked(ctx, container);
      return container;
    });
  }

  /** Removes every container that is not running; returns their IDs. */
  async prune(ctx: Ctx): Promise<string[]> {
    const removed: string[] = [];
    for (const c of this.deps.store.list()) {
      if (isActive(c) || c.state.status === 'restarting') continue;
      await this.lock.run(c.id, async () => {
        const current = this.deps.store.get(c.id);
        if (!current || isActive(current) || current.state.status === 'restarting') return;
        await this.removeLocked(ctx, current);
        removed.push(c.id);
      });
    }
    return removed;
  }

  /** Resolves with the exit code once `condition` holds (waiters.ts). */
  wait(ctx: Ctx, ref: string, condition: WaitCondition = 'not-running'): Promise<number> {
    const { id } = this.resolve(ref);
    return this.waiters.wait(ctx, id, this.deps.store.get(id), condition);
  }

  /** Called by the exit watcher for every exit file (and by recovery). */
  onTaskExit(id: string, exitCode: number, synthetic = false, error = ''): void {
    this.exits.fire(id);
    void this.lock.run(id, () => this.handleExit(id, exitCode, synthetic, error)).catch((e: unknown) =>
      this.deps.log.error('handling a container exit failed', { id, exitCode, error: e }),
    );
  }

  /** Records a probe result (HealthMonitor calls this). */
  recordHealth(id: string, update: (state: ContainerState) => Partial<ContainerState>): Promise<void> {
    return this.lock.run(id, async () => {
      const container = this.deps.store.get(id);
      if (!container || container.state.status !== 'running') return;
      const before = container.state.health.status;
      const after = await this.setState(id, update(container.state));
      if (after.state.health.status !== before) {
        this.publish(ContainerTopics.healthStatus, after, { health: after.state.health.status });
      }
    });
  }

  /**
   * Recovery: takes over a task found at start-up. Its record is brought in
   * line with runc's state, and health checks resume. A task that is gone
   * leaves the record active, so the exit handled next is recorded.
   */
  adopt(id: string, task: RuncState | undefined, monitorPid: number): Promise<void> {
    return this.lock.run(id, async () => {
      const status = task?.status === 'paused' ? 'paused' : 'running';
      const adopted = await this.setState(id, {
        status,
        pid: task?.pid ?? 0,
        monitorPid,
        startedAt: this.current(id).state.startedAt || task?.created || new Date().toISOString(),
      });
      if (status === 'running') this.deps.health.watch(adopted);
      if (task) this.deps.launcher.rotateLog(id, this.logPathOf(id));
    });
  }

  /**
   * Recovery, for containers not running: `restarting` ones get their restart
   * scheduled; exited `always` ones, and `unless-stopped` ones the user did
   * not stop, are started, as Docker does when its daemon starts.
   */
  restartOnDaemonStart(container: Container): Promise<boolean> {
    return this.lock.run(container.id, async () => {
      const current = this.deps.store.get(container.id);
      if (!current) return false;
      if (current.state.status === 'restarting') {
        this.restarts.schedule(current);
        return true;
      }
      const policy = current.config.restartPolicy.name;
      const wanted = current.state.status === 'exited' && (policy === 'always' || (policy === 'unless-stopped' && !current.state.stoppedByUser));
      if (!wanted) return false;
      try {
        await this.startTask({ signal: cleanupSignal(60_000) }, current, 'user');
        return true;
      } catch (e) {
        this.deps.log.warn('starting a container at daemon start failed', { id: current.id, error: e });
        return false;
      }
    });
  }

  /** Stops every health monitor and restart timer (daemon shutdown); containers keep running. */
  close(): void {
    this.restarts.close();
    this.deps.health.close();
  }

  // --- internals, called under the container's lock ---

  private async startTask(ctx: Ctx, container: Container, by: 'user' | 'policy', afterCreate?: AfterCreate): Promise<Container> {
    const { id } = container;
    let task;
    try {
      task = await this.deps.launcher.launch(ctx, container, this.logPathOf(id), afterCreate);
    } catch (e) {
      const status = container.state.status === 'restarting' ? 'exited' : container.state.status;
      await this.setState(id, { status, error: describe(e) });
      throw e;
    }
    const hasHealthcheck = this.deps.health.configOf(container) !== undefined;
    const started = await this.setState(id, {
      status: 'running',
      pid: task.pid,
      monitorPid: task.monitorPid,
      exitCode: 0,
      oomKilled: false,
      startedAt: new Date().toISOString(),
      finishedAt: '',
      error: '',
      stoppedByUser: false,
      restartCount: by === 'user' ? 0 : container.state.restartCount + 1,
      health: { status: hasHealthcheck ? 'starting' : 'none', failingStreak: 0, log: container.state.health.log },
    });
    if (by === 'user') this.restarts.reset(id);
    this.deps.health.watch(started);
    this.publish(ContainerTopics.start, started);
    this.notify(started, id, false);
    return started;
  }

  /**
   * `synthetic`: recovery found the task gone without an exit file (its
   * monitor died, or the host rebooted), and made up the code.
   */
  private async handleExit(id: string, exitCode: number, synthetic: boolean, error: string): Promise<void> {
    const { launcher } = this.deps;
    const container = this.deps.store.get(id);
    if (!container || !isActive(container)) {
      await launcher.clearExit(id);
      return;
    }
    // Reported before, and the container started again since: not this run's exit.
    if (!synthetic && (await launcher.readExit(id)) === undefined) return;
    this.deps.health.stop(id);
    const oomKilled = await launcher.oomKilled(id);
    await launcher.teardown(id);
    const restart = shouldRestart(container, exitCode);
    const exited = await this.setState(id, {
      status: restart ? 'restarting' : 'exited',
      exitCode,
      oomKilled,
      pid: 0,
      monitorPid: 0,
      finishedAt: new Date().toISOString(),
      error,
    });
    await launcher.clearExit(id);
    if (oomKilled) this.publish(ContainerTopics.oom, exited);
    this.publish(ContainerTopics.die, exited, { exitCode: String(exitCode) });
    this.notify(exited, id, true);
    if (restart) this.restarts.schedule(exited);
    else if (container.config.autoRemove) await this.removeLocked({ signal: cleanupSignal() }, exited);
  }

  private restartByPolicy(id: string): Promise<void> {
    return this.lock.run(id, async () => {
      const container = this.deps.store.get(id);
      if (!container || container.state.status !== 'restarting') return;
      try {
        await this.startTask({ signal: cleanupSignal(60_000) }, container, 'policy');
        this.publish(ContainerTopics.restart, this.current(id));
      } catch (e) {
        this.deps.log.warn('restart by policy failed', { id, error: e });
        const failed = this.current(id);
        this.notify(failed, id, false);
        if (failed.config.autoRemove) await this.removeLocked({ signal: cleanupSignal() }, failed);
      }
    });
  }

  /** Signals the task and waits for its exit; SIGKILL after `timeoutSeconds`. */
  private async terminate(ctx: Ctx, container: Container, signal: string, timeoutSeconds: number): Promise<void> {
    const { id } = container;
    const exited = this.exits.next(id);
    if (container.state.status === 'paused') await this.deps.runc.resume(id);
    try {
      await this.deps.runc.kill(id, signal, { all: signal === 'SIGKILL' });
    } catch (e) {
      if (!isNotFound(e) && !(await this.taskGone(id))) throw e;
    }
    if (signal !== 'SIGKILL' && !(await exited.within(timeoutSeconds * 1000, ctx.signal))) {
      await this.deps.runc.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
    }
    if (!(await exited.within(KILL_GRACE_MS))) {
      throw failedPrecondition(`container ${container.name} did not exit after SIGKILL`);
    }
  }

  private async taskGone(id: string): Promise<boolean> {
    const state = await this.deps.runc.state(id);
    return !state || state.status === 'stopped';
  }

  private async removeLocked(ctx: Ctx, container: Container): Promise<void> {
    const { id } = container;
    this.restarts.cancel(id);
    this.deps.health.stop(id);
    if (isActive(container)) {
      await this.setState(id, { stoppedByUser: true });
      await this.terminate(ctx, container, 'SIGKILL', 0);
    }
    await this.destroyLeftovers(container);
    this.publish(ContainerTopics.destroy, container);
    this.notify(undefined, id, false);
  }

  /** Everything a container owns, in the order that cannot strand anything: task, bundle, snapshot, record. */
  private async destroyLeftovers(container: Container): Promise<void> {
    await this.deps.launcher.destroy(container.id);
    try {
      await this.deps.snapshotter.remove({ signal: cleanupSignal() }, container.snapshotKey);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.deps.store.delete(container.id);
  }

  private current(id: string): Container {
    const container = this.deps.store.get(id);
    if (!container) throw notFound(`no such container: ${id}`);
    return container;
  }

  private setState(id: string, change: Partial<ContainerState>): Promise<Container> {
    return this.deps.store.update(id, (c) => ({ ...c, state: { ...c.state, ...change } }));
  }

  private isNameTaken(name: string): boolean {
    try {
      return this.deps.store.resolve(name).name === name;
    } catch {
      return false;
    }
  }

  private notify(container: Container | undefined, id: string, died: boolean): void {
    this.waiters.notify(container, id, died);
  }

  private publish(topic: string, container: Container, extra: Record<string, string> = {}): void {
    this.deps.events.publish(topic, container.id, { name: container.name, image: container.config.image, ...extra });
  }
}

export function isActive(container: Container): boolean {
  return container.state.status === 'running' || container.state.status === 'paused';
}

async function requireBindSource(source: string): Promise<void> {
  try {
    await fs.promises.stat(source);
  } catch {
    throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
  }
}
