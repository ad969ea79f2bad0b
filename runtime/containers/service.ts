/**
 * The container service: Docker's container verbs over the record store, the
 * task side (bundle, conmon, runc), health checks and the event log, each
 * reached through the narrow interfaces in serviceDeps.ts.
 *
 * States and transitions: the table in stateMachine.ts, drawn there. Every
 * verb, and every event the daemon sees (an exit, a restart timer, a health
 * probe, recovery at start-up), first asks the table for its transition —
 * which refuses it with an error naming both states, or names the action —
 * and then runs that action (`ContainerActions.run` in actions.ts).
 *
 * Concurrency: every operation on one container, and the handling of its
 * exit, runs under that container's lock (KeyedMutex), so each sees the
 * other's result. An operation that must wait for the task to exit (stop,
 * remove -f) waits on the raw exit signal, which fires before the exit is
 * handled; it then reads the record again under the lock.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { type Ctx, cleanupSignal } from '../context';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import type { RuncState } from '../tasks/tasks';
import type { ContainerConfig as ImageRuntimeConfig } from '../images/manifest';
import { KeyedMutex } from '../util/keyedMutex';
import { ContainerTopics, initialState, type Container, type ContainerConfig, type ContainerState } from './containers';
import { matchesFilters, parseFilters } from './filters';
import type { EffectivePrivileges } from '../oci/specgen/privileges';
import type { AfterCreate } from './launcher';
import { generateName } from './names';
import { validateContainerName } from '../options';
import { shouldRestart } from './restart';
import { resolveArgs } from '../oci/specgen/build';
import { ContainerActions } from './actions';
import { allows, transition, type ContainerEvent, type Transition } from './stateMachine';
import { systemClock, type Clock, type ContainerServiceDeps, type HealthRecorder } from './serviceDeps';
import { isUp, type WaitCondition } from './waiters';

export type { WaitCondition };

/** A root filesystem made by gantryd itself: a committed snapshot and the runtime config to run it with. */
export interface ContainerBase {
  readonly name: string;
  readonly id: string;
  /** The committed snapshot the container's rootfs is prepared on. */
  readonly chainId: string;
  readonly config: ImageRuntimeConfig;
}
export type { ContainerServiceDeps };

export class ContainerService {
  private readonly lock = new KeyedMutex();
  private readonly clock: Clock;
  private readonly actions: ContainerActions;
  private readonly recordHealthOf: HealthRecorder = (id, update) => this.recordHealth(id, update);

  constructor(private readonly deps: ContainerServiceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.actions = new ContainerActions(deps, this.clock, (id) => this.restartByPolicy(id), this.recordHealthOf);
  }

  list(all: boolean, filters: readonly string[] = [], allNamespaces = false): Container[] {
    const parsed = parseFilters(filters);
    return this.deps.store
      .list()
      .filter((c) => all || isUp(c))
      .filter((c) => matchesFilters(c, parsed, allNamespaces))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  exists(id: string): boolean {
    return this.deps.store.get(id) !== undefined;
  }

  resolve(ref: string): Container {
    return this.deps.store.resolve(ref);
  }

  logPathOf(id: string): string {
    return this.deps.store.logPathOf(id);
  }

  bundleOf(id: string): string {
    return this.deps.tasks.bundleOf(id);
  }

  /** The privilege settings in effect for a container (what inspect shows). */
  privilegesOf(c: Container): EffectivePrivileges {
    return this.deps.tasks.privilegesOf(c.config);
  }

  /**
   * `base`: a root filesystem that is not an image of the store (the CRI's
   * pause rootfs, runtime/cri/pause.ts). A namespaced config (CRI) may have a
   * name outside Docker's syntax, so that it never clashes with one.
   */
  async create(ctx: Ctx, name: string, requested: ContainerConfig, base?: ContainerBase): Promise<Container> {
    const { store, images, snapshotter, tasks } = this.deps;
    const config = tasks.withDefaults(requested);
    if (name && !config.namespace) validateContainerName(name);
    const image = base
      ? { name: base.name, id: base.id, snapshot: { snapshotter: snapshotter.name, chainId: base.chainId } }
      : images.resolve(config.image);
    if (!image.snapshot || image.snapshot.snapshotter !== snapshotter.name) {
      throw failedPrecondition(`image ${image.name} is not unpacked for the ${snapshotter.name} snapshotter; pull it again`);
    }
    const imageConfig = base ? base.config : ((await images.inspect(ctx, image.id)).config.config ?? {});
    const args = resolveArgs(config, imageConfig);
    for (const m of config.mounts) await requireBindSource(m.source);
    const volumes = this.deps.volumes;
    if (!volumes && (config.volumes?.length || config.volumesFrom?.length))
      throw failedPrecondition('volumes are unavailable on this daemon');
    const prepared = volumes ? await volumes.prepare(ctx, config, imageConfig) : { config, done: () => undefined };
    const id = randomBytes(32).toString('hex');
    const container: Container = {
      id,
      name: name ? name.replace(/^\//, '') : generateName((n) => this.isNameTaken(n)),
      createdAt: this.clock.now().toISOString(),
      config: prepared.config,
      imageName: image.name,
      imageId: image.id,
      imageConfig,
      args,
      snapshotter: snapshotter.name,
      snapshotKey: `container-${id}`,
      state: initialState(),
    };
    try {
      transition(container.name, 'gone', 'create');
      await store.add(container);
    } catch (e) {
      // Nothing references what was made for it: its anonymous volumes go again.
      prepared.done();
      await this.releaseVolumes(container, true);
      throw e;
    }
    prepared.done();
    try {
      await snapshotter.prepare(ctx, container.snapshotKey, image.snapshot.chainId);
      await tasks.writeBundle(ctx, container);
    } catch (e) {
      let cleaned = true;
      await this.actions.destroyLeftovers(container).catch(async (cleanupError: unknown) => {
        cleaned = false;
        this.deps.log.warn('cleanup after a failed create failed', { id, error: cleanupError });
        await this.actions.markDead(id, cleanupError);
      });
      if (cleaned) await this.releaseVolumes(container, true);
      throw e;
    }
    this.actions.publish(ContainerTopics.create, container);
    return container;
  }

  private async releaseVolumes(container: Container, removeAnonymous: boolean): Promise<void> {
    await this.deps.volumes
      ?.released(container.config, removeAnonymous)
      .catch((e: unknown) => this.deps.log.warn('removing the volumes of a container failed', { id: container.id, error: e }));
  }

  /** `afterCreate` runs once the task exists and before it runs (attach there to miss nothing). */
  start(ctx: Ctx, ref: string, afterCreate?: AfterCreate): Promise<Container> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.actions.current(id);
      await this.actions.run(this.step(container, 'start'), container, { ctx, afterCreate });
      return this.actions.current(id);
    });
  }

  async stop(ctx: Ctx, ref: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<Container> {
    const { id } = this.resolve(ref);
    await this.lock.run(id, async () => {
      const container = this.actions.current(id);
      const step = this.step(container, 'stop');
      await this.actions.run(step, container, { ctx, signal: opts.signal, timeoutSeconds: opts.timeoutSeconds });
      if (step.action !== 'none') this.actions.publish(ContainerTopics.stop, container);
    });
    return this.lock.run(id, async () => this.actions.current(id));
  }

  /** stop, then start: each asks the table again; this asks first so that a dead container is refused before it is touched. */
  async restart(ctx: Ctx, ref: string, timeoutSeconds?: number): Promise<Container> {
    const { id } = this.resolve(ref);
    this.step(this.actions.current(id), 'restart');
    await this.stop(ctx, id, { timeoutSeconds });
    const container = await this.start(ctx, id);
    this.actions.publish(ContainerTopics.restart, container);
    return container;
  }

  kill(ctx: Ctx, ref: string, signalName: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.actions.current(id);
      await this.actions.run(this.step(container, 'kill'), container, { ctx, signal: signalName || 'SIGKILL' });
    });
  }

  pause(ctx: Ctx, ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.actions.current(id);
      await this.actions.run(this.step(container, 'pause'), container, { ctx });
    });
  }

  unpause(ctx: Ctx, ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.actions.current(id);
      await this.actions.run(this.step(container, 'unpause'), container, { ctx });
    });
  }

  /** `removeVolumes` (rm -v): its anonymous volumes go too, unless another container uses them. */
  remove(ctx: Ctx, ref: string, force: boolean, removeVolumes = false): Promise<Container> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.actions.current(id);
      await this.actions.run(this.step(container, force ? 'remove-force' : 'remove'), container, { ctx, removeVolumes });
      return container;
    });
  }

  /**
   * Changes a container's configuration under its lock (`network connect`
   * and `disconnect`): `change` gets the current record — its status says
   * whether a task runs — does what a running task needs, and returns the
   * new config, which is then persisted. A failing `change` changes nothing.
   */
  reconfigure(ref: string, change: (current: Container) => Promise<ContainerConfig>): Promise<Container> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const config = await change(this.actions.current(id));
      return this.deps.store.update(id, (c) => ({ ...c, config }));
    });
  }

  /** Removes every container that is not running (created, exited, dead); returns their IDs. */
  async prune(ctx: Ctx): Promise<string[]> {
    const removed: string[] = [];
    for (const c of this.deps.store.list()) {
      if (!allows(c.state.status, 'prune')) continue;
      await this.lock.run(c.id, async () => {
        const current = this.deps.store.get(c.id);
        if (!current || !allows(current.state.status, 'prune')) return;
        await this.actions.run(this.step(current, 'prune'), current, { ctx });
        removed.push(c.id);
      });
    }
    return removed;
  }

  /** Resolves with the exit code once `condition` holds (waiters.ts). */
  wait(ctx: Ctx, ref: string, condition: WaitCondition = 'not-running'): Promise<number> {
    const { id } = this.resolve(ref);
    return this.actions.waiters.wait(ctx, id, this.deps.store.get(id), condition);
  }

  /** Called by the exit watcher for every exit file (and by recovery). */
  onTaskExit(id: string, exitCode: number, synthetic = false, error = ''): void {
    this.actions.exits.fire(id);
    void this.lock
      .run(id, () => {
        this.actions.exits.handled(id);
        return this.handleExit(id, exitCode, synthetic, error);
      })
      .catch((e: unknown) => this.deps.log.error('handling a container exit failed', { id, exitCode, error: e }));
  }

  /** Records a probe result (the health monitor calls this through the recorder `watch` is given). */
  recordHealth(id: string, update: (state: ContainerState) => Partial<ContainerState>): Promise<void> {
    return this.lock.run(id, async () => {
      const container = this.deps.store.get(id);
      const step = transition(container?.name ?? id, container?.state.status ?? 'gone', 'health');
      if (!container || step.action === 'none') return;
      const before = container.state.health.status;
      const after = await this.actions.setState(id, update(container.state));
      if (after.state.health.status !== before) {
        this.actions.publish(ContainerTopics.healthStatus, after, { health: after.state.health.status });
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
      const container = this.actions.current(id);
      const step = this.step(container, task?.status === 'paused' ? 'adopt-paused' : 'adopt');
      if (step.action === 'none') return;
      const adopted = await this.actions.setState(id, {
        status: step.next === 'paused' ? 'paused' : 'running',
        pid: task?.pid ?? 0,
        monitorPid,
        startedAt: container.state.startedAt || task?.created || this.clock.now().toISOString(),
      });
      if (adopted.state.status === 'running') this.deps.health.watch(adopted, this.recordHealthOf);
      if (task && !container.config.logPath) this.deps.tasks.rotateLog(id, this.logPathOf(id));
    });
  }

  /**
   * Recovery, for containers whose task is not there: `restarting` ones get
   * their restart scheduled; exited `always` ones, and `unless-stopped` ones
   * the user did not stop, are started, as Docker does when its daemon starts.
   */
  restartOnDaemonStart(container: Container): Promise<boolean> {
    return this.lock.run(container.id, async () => {
      const current = this.deps.store.get(container.id);
      if (!current) return false;
      const step = this.step(current, 'daemon-start');
      if (step.action === 'schedule-restart') {
        this.actions.restarts.schedule(current);
        return true;
      }
      if (step.action !== 'start-by-policy') return false;
      const policy = current.config.restartPolicy.name;
      if (!(policy === 'always' || (policy === 'unless-stopped' && !current.state.stoppedByUser))) return false;
      try {
        await this.actions.startTask({ signal: cleanupSignal(60_000) }, current, 'user');
        return true;
      } catch (e) {
        this.deps.log.warn('starting a container at daemon start failed', { id: current.id, error: e });
        return false;
      }
    });
  }

  /** Stops every health monitor and restart timer (daemon shutdown); containers keep running. */
  close(): void {
    this.actions.restarts.close();
    this.deps.health.close();
  }

  // --- internals, called under the container's lock ---

  /** The table's transition for `event`, or its refusal thrown. */
  private step(container: Container, event: ContainerEvent): Transition {
    return transition(container.name, container.state.status, event);
  }

  /**
   * `synthetic`: recovery found the task gone without an exit file (its
   * monitor died, or the host rebooted), and made up the code.
   */
  private async handleExit(id: string, exitCode: number, synthetic: boolean, error: string): Promise<void> {
    const { tasks } = this.deps;
    const container = this.deps.store.get(id);
    const event = container && shouldRestart(container, exitCode) ? 'exit-restart' : 'exit';
    const step = transition(container?.name ?? id, container?.state.status ?? 'gone', event);
    if (!container || step.action === 'none') {
      await tasks.clearExit(id);
      return;
    }
    // Reported before, and the container started again since: not this run's exit.
    if (!synthetic && (await tasks.readExit(id)) === undefined) return;
    await this.actions.recordExit(step, container, exitCode, error);
  }

  private restartByPolicy(id: string): Promise<void> {
    return this.lock.run(id, async () => {
      const container = this.deps.store.get(id);
      const step = transition(container?.name ?? id, container?.state.status ?? 'gone', 'policy-restart');
      if (!container || step.action === 'none') return;
      try {
        await this.actions.startTask({ signal: cleanupSignal(60_000) }, container, 'policy');
        this.actions.publish(ContainerTopics.restart, this.actions.current(id));
      } catch (e) {
        this.deps.log.warn('restart by policy failed', { id, error: e });
        const failed = this.actions.current(id);
        this.actions.notify(failed, id, false);
        if (failed.config.autoRemove) await this.actions.removeLocked({ signal: cleanupSignal() }, failed, false, true);
      }
    });
  }

  private isNameTaken(name: string): boolean {
    try {
      return this.deps.store.resolve(name).name === name;
    } catch {
      return false;
    }
  }
}

async function requireBindSource(source: string): Promise<void> {
  try {
    await fs.promises.stat(source);
  } catch {
    throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
  }
}
