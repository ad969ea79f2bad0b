/**
 * The container service: Docker's container verbs over the record store, the
 * task side (bundle, conmon, runc), health checks and the event log, each
 * reached through the narrow interfaces in serviceDeps.ts.
 *
 * States and transitions: the table in stateMachine.ts, drawn there. Every
 * verb, and every event the daemon sees (an exit, a restart timer, a health
 * probe, recovery at start-up), first asks the table for its transition —
 * which refuses it with an error naming both states, or names the action —
 * and then runs that action (`run`).
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
import { describe, failedPrecondition, invalidArgument, isNotFound, notFound } from '../errdefs/errdefs';
import type { RuncState } from '../tasks/tasks';
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
import type { EffectivePrivileges } from '../oci/specgen/privileges';
import type { AfterCreate } from './launcher';
import { generateName } from './names';
import { parseSignal, validateContainerName } from '../options';
import { RestartScheduler, shouldRestart } from './restart';
import { resolveArgs } from '../oci/specgen/build';
import { ExitSignals } from './exitSignals';
import { allows, transition, type ContainerEvent, type Transition } from './stateMachine';
import { systemClock, type Clock, type ContainerServiceDeps, type HealthRecorder } from './serviceDeps';
import { ContainerWaiters, isUp, type WaitCondition } from './waiters';

export type { WaitCondition };
export type { ContainerServiceDeps };

/** How long to wait for a SIGKILLed task to be reported gone before giving up. */
const KILL_GRACE_MS = 30_000;

/** What an action needs beyond the container: the verb's arguments. */
interface ActionArgs {
  readonly ctx: Ctx;
  readonly afterCreate?: AfterCreate;
  /** stop: the stop signal instead of the container's; kill: the signal to send. */
  readonly signal?: string;
  readonly timeoutSeconds?: number;
}

export class ContainerService {
  private readonly lock = new KeyedMutex();
  private readonly exits: ExitSignals;
  private readonly restarts: RestartScheduler;
  private readonly waiters = new ContainerWaiters();
  private readonly clock: Clock;
  private readonly recordHealthOf: HealthRecorder = (id, update) => this.recordHealth(id, update);

  constructor(private readonly deps: ContainerServiceDeps) {
    this.clock = deps.clock ?? systemClock;
    this.exits = new ExitSignals(this.clock);
    this.restarts = new RestartScheduler((id) => this.restartByPolicy(id), this.clock);
  }

  list(all: boolean, filters: readonly string[] = []): Container[] {
    const parsed = parseFilters(filters);
    return this.deps.store
      .list()
      .filter((c) => all || isUp(c))
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
    return this.deps.store.logPathOf(id);
  }

  bundleOf(id: string): string {
    return this.deps.tasks.bundleOf(id);
  }

  /** The privilege settings in effect for a container (what inspect shows). */
  privilegesOf(c: Container): EffectivePrivileges {
    return this.deps.tasks.privilegesOf(c.config);
  }

  async create(ctx: Ctx, name: string, requested: ContainerConfig): Promise<Container> {
    const { store, images, snapshotter, tasks } = this.deps;
    const config = tasks.withDefaults(requested);
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
      createdAt: this.clock.now().toISOString(),
      config,
      imageName: image.name,
      imageId: image.id,
      imageConfig,
      args,
      snapshotter: snapshotter.name,
      snapshotKey: `container-${id}`,
      state: initialState(),
    };
    transition(container.name, 'gone', 'create');
    await store.add(container);
    try {
      await snapshotter.prepare(ctx, container.snapshotKey, image.snapshot.chainId);
      await tasks.writeBundle(ctx, container);
    } catch (e) {
      await this.destroyLeftovers(container).catch(async (cleanupError: unknown) => {
        this.deps.log.warn('cleanup after a failed create failed', { id, error: cleanupError });
        await this.markDead(id, cleanupError);
      });
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
      await this.run(this.step(container, 'start'), container, { ctx, afterCreate });
      return this.current(id);
    });
  }

  async stop(ctx: Ctx, ref: string, opts: { timeoutSeconds?: number; signal?: string } = {}): Promise<Container> {
    const { id } = this.resolve(ref);
    await this.lock.run(id, async () => {
      const container = this.current(id);
      const step = this.step(container, 'stop');
      await this.run(step, container, { ctx, signal: opts.signal, timeoutSeconds: opts.timeoutSeconds });
      if (step.action !== 'none') this.publish(ContainerTopics.stop, container);
    });
    return this.lock.run(id, async () => this.current(id));
  }

  /** stop, then start: each asks the table again; this asks first so that a dead container is refused before it is touched. */
  async restart(ctx: Ctx, ref: string, timeoutSeconds?: number): Promise<Container> {
    const { id } = this.resolve(ref);
    this.step(this.current(id), 'restart');
    await this.stop(ctx, id, { timeoutSeconds });
    const container = await this.start(ctx, id);
    this.publish(ContainerTopics.restart, container);
    return container;
  }

  kill(ctx: Ctx, ref: string, signalName: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      await this.run(this.step(container, 'kill'), container, { ctx, signal: signalName || 'SIGKILL' });
    });
  }

  pause(ctx: Ctx, ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      await this.run(this.step(container, 'pause'), container, { ctx });
    });
  }

  unpause(ctx: Ctx, ref: string): Promise<void> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      await this.run(this.step(container, 'unpause'), container, { ctx });
    });
  }

  remove(ctx: Ctx, ref: string, force: boolean): Promise<Container> {
    const { id } = this.resolve(ref);
    return this.lock.run(id, async () => {
      const container = this.current(id);
      await this.run(this.step(container, force ? 'remove-force' : 'remove'), container, { ctx });
      return container;
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
        await this.run(this.step(current, 'prune'), current, { ctx });
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

  /** Records a probe result (the health monitor calls this through the recorder `watch` is given). */
  recordHealth(id: string, update: (state: ContainerState) => Partial<ContainerState>): Promise<void> {
    return this.lock.run(id, async () => {
      const container = this.deps.store.get(id);
      const step = transition(container?.name ?? id, container?.state.status ?? 'gone', 'health');
      if (!container || step.action === 'none') return;
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
      const container = this.current(id);
      const step = this.step(container, task?.status === 'paused' ? 'adopt-paused' : 'adopt');
      if (step.action === 'none') return;
      const adopted = await this.setState(id, {
        status: step.next === 'paused' ? 'paused' : 'running',
        pid: task?.pid ?? 0,
        monitorPid,
        startedAt: container.state.startedAt || task?.created || this.clock.now().toISOString(),
      });
      if (adopted.state.status === 'running') this.deps.health.watch(adopted, this.recordHealthOf);
      if (task) this.deps.tasks.rotateLog(id, this.logPathOf(id));
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
        this.restarts.schedule(current);
        return true;
      }
      if (step.action !== 'start-by-policy') return false;
      const policy = current.config.restartPolicy.name;
      if (!(policy === 'always' || (policy === 'unless-stopped' && !current.state.stoppedByUser))) return false;
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

  /** The table's transition for `event`, or its refusal thrown. */
  private step(container: Container, event: ContainerEvent): Transition {
    return transition(container.name, container.state.status, event);
  }

  /** Runs the action the table named for a verb. */
  private async run(step: Transition, container: Container, args: ActionArgs): Promise<void> {
    const { id } = container;
    const { tasks, health } = this.deps;
    switch (step.action) {
      case 'none':
        return;
      case 'cancel-restart-and-launch':
        this.restarts.cancel(id);
        await this.startTask(args.ctx, container, 'user', args.afterCreate);
        return;
      case 'launch':
        await this.startTask(args.ctx, container, 'user', args.afterCreate);
        return;
      case 'cancel-restart':
        this.restarts.cancel(id);
        await this.setState(id, { status: 'exited', stoppedByUser: true });
        return;
      case 'terminate':
      case 'thaw-and-terminate': {
        await this.setState(id, { stoppedByUser: true });
        const signal = parseSignal(args.signal || stopSignalOf(container)).name;
        const timeout = args.timeoutSeconds ?? container.config.stopTimeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS;
        await this.terminate(args.ctx, container, signal, timeout, step.action === 'thaw-and-terminate');
        return;
      }
      case 'signal':
      case 'thaw-and-signal': {
        const signal = parseSignal(args.signal || 'SIGKILL');
        // Docker: a kill meant to end the container counts as a manual stop, so the policy leaves it down.
        if (signal.name === 'SIGKILL' || signal.name === parseSignal(stopSignalOf(container)).name) {
          await this.setState(id, { stoppedByUser: true });
        }
        // A frozen process cannot act on a signal, not even die of SIGKILL: thaw it first, as Docker does.
        if (step.action === 'thaw-and-signal') {
          await tasks.resume(id);
          health.watch(await this.setState(id, { status: 'running' }), this.recordHealthOf);
        }
        await tasks.kill(id, signal.name, { all: signal.name === 'SIGKILL' });
        this.publish(ContainerTopics.kill, container, { signal: signal.name });
        return;
      }
      case 'freeze':
        await tasks.pause(id);
        health.suspend(id);
        this.publish(ContainerTopics.pause, await this.setState(id, { status: 'paused' }));
        return;
      case 'thaw': {
        await tasks.resume(id);
        const resumed = await this.setState(id, { status: 'running' });
        health.watch(resumed, this.recordHealthOf);
        this.publish(ContainerTopics.unpause, resumed);
        return;
      }
      case 'destroy':
        await this.removeLocked(args.ctx, container, false);
        return;
      case 'kill-and-destroy':
      case 'cancel-restart-and-destroy':
        await this.removeLocked(args.ctx, container, step.action === 'kill-and-destroy');
        return;
      case 'stop-and-start':
      case 'create':
      case 'record-exit':
      case 'record-exit-and-schedule':
      case 'relaunch':
      case 'mark-dead':
      case 'record-health':
      case 'adopt':
      case 'schedule-restart':
      case 'start-by-policy':
        // Not a verb's action: restart, create, exit handling, the restart timer, removal failures, health and recovery run their own.
        throw new Error(`${step.action} is not run for ${step.event}`);
      default: {
        const never: never = step.action;
        throw new Error(`unknown action ${String(never)}`);
      }
    }
  }

  private async startTask(ctx: Ctx, container: Container, by: 'user' | 'policy', afterCreate?: AfterCreate): Promise<Container> {
    const { id } = container;
    let task;
    try {
      task = await this.deps.tasks.launch(ctx, container, this.logPathOf(id), afterCreate);
    } catch (e) {
      // A failed start leaves the container where it was; a failed restart by policy leaves it exited.
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
      startedAt: this.clock.now().toISOString(),
      finishedAt: '',
      error: '',
      stoppedByUser: false,
      restartCount: by === 'user' ? 0 : container.state.restartCount + 1,
      health: { status: hasHealthcheck ? 'starting' : 'none', failingStreak: 0, log: container.state.health.log },
    });
    if (by === 'user') this.restarts.reset(id);
    this.deps.health.watch(started, this.recordHealthOf);
    this.publish(ContainerTopics.start, started);
    this.notify(started, id, false);
    return started;
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
    this.deps.health.stop(id);
    const oomKilled = await tasks.oomKilled(id);
    await tasks.teardown(id);
    const exited = await this.setState(id, {
      status: step.next === 'restarting' ? 'restarting' : 'exited',
      exitCode,
      oomKilled,
      pid: 0,
      monitorPid: 0,
      finishedAt: this.clock.now().toISOString(),
      error,
    });
    await tasks.clearExit(id);
    if (oomKilled) this.publish(ContainerTopics.oom, exited);
    this.publish(ContainerTopics.die, exited, { exitCode: String(exitCode) });
    this.notify(exited, id, true);
    if (step.action === 'record-exit-and-schedule') this.restarts.schedule(exited);
    else if (container.config.autoRemove) await this.removeLocked({ signal: cleanupSignal() }, exited, false);
  }

  private restartByPolicy(id: string): Promise<void> {
    return this.lock.run(id, async () => {
      const container = this.deps.store.get(id);
      const step = transition(container?.name ?? id, container?.state.status ?? 'gone', 'policy-restart');
      if (!container || step.action === 'none') return;
      try {
        await this.startTask({ signal: cleanupSignal(60_000) }, container, 'policy');
        this.publish(ContainerTopics.restart, this.current(id));
      } catch (e) {
        this.deps.log.warn('restart by policy failed', { id, error: e });
        const failed = this.current(id);
        this.notify(failed, id, false);
        if (failed.config.autoRemove) await this.removeLocked({ signal: cleanupSignal() }, failed, false);
      }
    });
  }

  /** Signals the task and waits for its exit; SIGKILL after `timeoutSeconds`. */
  private async terminate(ctx: Ctx, container: Container, signal: string, timeoutSeconds: number, thaw: boolean): Promise<void> {
    const { id } = container;
    const { tasks } = this.deps;
    const exited = this.exits.next(id);
    if (thaw) await tasks.resume(id);
    try {
      await tasks.kill(id, signal, { all: signal === 'SIGKILL' });
    } catch (e) {
      if (!isNotFound(e) && !(await tasks.isGone(id))) throw e;
    }
    if (signal !== 'SIGKILL' && !(await exited.within(timeoutSeconds * 1000, ctx.signal))) {
      await tasks.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
    }
    if (!(await exited.within(KILL_GRACE_MS))) {
      throw failedPrecondition(`container ${container.name} did not exit after SIGKILL`);
    }
  }

  /**
   * Removal: the task first (with `kill`, SIGKILL and wait), then bundle,
   * snapshot and record. If the leftovers cannot all go, the record stays,
   * marked `dead`: nothing runs, and only rm -f (or prune) finishes the job.
   */
  private async removeLocked(ctx: Ctx, container: Container, kill: boolean): Promise<void> {
    const { id } = container;
    this.restarts.cancel(id);
    this.deps.health.stop(id);
    if (kill) {
      await this.setState(id, { stoppedByUser: true });
      await this.terminate(ctx, container, 'SIGKILL', 0, container.state.status === 'paused');
      // The task is gone; its exit, queued behind this lock, finds the record removed (or dead) and is dropped.
      this.step(container, 'exit');
      await this.setState(id, { status: 'exited', pid: 0, monitorPid: 0, finishedAt: this.clock.now().toISOString() });
    }
    try {
      await this.destroyLeftovers(container);
    } catch (e) {
      await this.markDead(id, e);
      throw e;
    }
    this.publish(ContainerTopics.destroy, container);
    this.notify(undefined, id, false);
  }

  /** Everything a container owns, in the order that cannot strand anything: task, bundle, snapshot, record. */
  private async destroyLeftovers(container: Container): Promise<void> {
    await this.deps.tasks.destroy(container.id);
    try {
      await this.deps.snapshotter.remove({ signal: cleanupSignal() }, container.snapshotKey);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.deps.store.delete(container.id);
  }

  /** A removal failed half-way: the container is `dead` (Docker's word), with the reason as its error. */
  private async markDead(id: string, cause: unknown): Promise<void> {
    const current = this.deps.store.get(id);
    if (!current) return; // the record itself went; nothing is left to mark
    try {
      this.step(current, 'remove-failed');
      const dead = await this.setState(id, { status: 'dead', error: `removal failed: ${describe(cause)}` });
      this.notify(dead, id, false);
    } catch (e) {
      this.deps.log.warn('marking a container dead failed', { id, error: e });
    }
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

function stopSignalOf(container: Container): string {
  return container.config.stopSignal || container.imageConfig.StopSignal || 'SIGTERM';
}

async function requireBindSource(source: string): Promise<void> {
  try {
    await fs.promises.stat(source);
  } catch {
    throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
  }
}
