/**
 * What each action of the container state table does (stateMachine.ts):
 * launching, signalling, freezing, recording an exit, removing, marking
 * dead. The service (service.ts) resolves the container, takes its lock and
 * asks the table; these run under that lock and never ask the table
 * themselves, except where one action ends in another event's transition
 * (rm -f records the exit it caused; a failed removal marks the container
 * dead).
 */
import { type Ctx, cleanupSignal } from '../context';
import { describe, failedPrecondition, isNotFound, notFound } from '../errdefs/errdefs';
import { parseSignal } from '../options';
import { ContainerTopics, DEFAULT_STOP_TIMEOUT_SECONDS, type Container, type ContainerState } from './containers';
import { ExitSignals } from './exitSignals';
import type { AfterCreate } from './launcher';
import { RestartScheduler } from './restart';
import type { Clock, ContainerServiceDeps, HealthRecorder } from './serviceDeps';
import { transition, type Transition } from './stateMachine';
import { ContainerWaiters } from './waiters';

/** How long to wait for a SIGKILLed task to be reported gone before giving up. */
const KILL_GRACE_MS = 30_000;

/** What an action needs beyond the container: the verb's arguments. */
export interface ActionArgs {
  readonly ctx: Ctx;
  readonly afterCreate?: AfterCreate;
  /** stop: the stop signal instead of the container's; kill: the signal to send. */
  readonly signal?: string;
  readonly timeoutSeconds?: number;
  /** remove: its anonymous volumes too (rm -v). */
  readonly removeVolumes?: boolean;
}

export class ContainerActions {
  readonly exits: ExitSignals;
  readonly restarts: RestartScheduler;
  readonly waiters = new ContainerWaiters();

  /**
   * `restartByPolicy` runs when a backoff timer fires (the service takes the
   * lock there); `recordHealthOf` is handed to the health monitor.
   */
  constructor(
    private readonly deps: ContainerServiceDeps,
    private readonly clock: Clock,
    restartByPolicy: (id: string) => Promise<void>,
    private readonly recordHealthOf: HealthRecorder,
  ) {
    this.exits = new ExitSignals(clock);
    this.restarts = new RestartScheduler(restartByPolicy, clock);
  }

  /** Runs the action the table named for a verb. */
  async run(step: Transition, container: Container, args: ActionArgs): Promise<void> {
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
        await this.removeLocked(args.ctx, container, false, args.removeVolumes);
        return;
      case 'kill-and-destroy':
      case 'cancel-restart-and-destroy':
        await this.removeLocked(args.ctx, container, step.action === 'kill-and-destroy', args.removeVolumes);
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

  async startTask(ctx: Ctx, container: Container, by: 'user' | 'policy', afterCreate?: AfterCreate): Promise<Container> {
    const { id } = container;
    let task;
    try {
      task = await this.deps.tasks.launch(ctx, container, this.deps.store.logPathOf(id), afterCreate);
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

  /** Records an exit the table accepted (`record-exit` or `record-exit-and-schedule`), then --rm or the restart. */
  async recordExit(step: Transition, container: Container, exitCode: number, error: string): Promise<void> {
    const { id } = container;
    const { tasks } = this.deps;
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
    else if (container.config.autoRemove) await this.removeLocked({ signal: cleanupSignal() }, exited, false, true);
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
   * marked `dead`: nothing runs, and rm (or prune) tries the removal again.
   */
  async removeLocked(ctx: Ctx, container: Container, kill: boolean, removeVolumes = false): Promise<void> {
    const { id } = container;
    this.restarts.cancel(id);
    this.deps.health.stop(id);
    if (kill) {
      await this.setState(id, { stoppedByUser: true });
      await this.terminate(ctx, container, 'SIGKILL', 0, container.state.status === 'paused');
      // The task is gone; its exit, queued behind this lock, finds the record removed (or dead) and is dropped.
      transition(container.name, container.state.status, 'exit');
      const exitCode = (await this.deps.tasks.readExit(id)) ?? container.state.exitCode;
      await this.setState(id, { status: 'exited', exitCode, pid: 0, monitorPid: 0, finishedAt: this.clock.now().toISOString() });
    }
    try {
      await this.destroyLeftovers(container);
    } catch (e) {
      // With `kill`, the run ended here: waiters for the next exit get it now, not at the final rm -f.
      await this.markDead(id, e, kill);
      throw e;
    }
    this.publish(ContainerTopics.destroy, container);
    this.notify(undefined, id, false);
    // After the record: the volumes it used are no longer in use. `--rm` removes anonymous ones as `rm -v` does.
    await this.deps.volumes
      ?.released(container.config, removeVolumes)
      .catch((e: unknown) => this.deps.log.warn('removing the volumes of a container failed', { id, error: e }));
  }

  /** Everything a container owns, in the order that cannot strand anything: task, bundle, snapshot, record. */
  async destroyLeftovers(container: Container): Promise<void> {
    await this.deps.tasks.destroy(container.id);
    try {
      await this.deps.snapshotter.remove({ signal: cleanupSignal() }, container.snapshotKey);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await this.deps.store.delete(container.id);
  }

  /** A removal failed half-way: the container is `dead` (Docker's word), with the reason as its error. */
  async markDead(id: string, cause: unknown, died = false): Promise<void> {
    const current = this.deps.store.get(id);
    if (!current) return; // the record itself went; nothing is left to mark
    try {
      transition(current.name, current.state.status, 'remove-failed');
      const dead = await this.setState(id, { status: 'dead', error: `removal failed: ${describe(cause)}` });
      this.notify(dead, id, died);
    } catch (e) {
      this.deps.log.warn('marking a container dead failed', { id, error: e });
    }
  }

  current(id: string): Container {
    const container = this.deps.store.get(id);
    if (!container) throw notFound(`no such container: ${id}`);
    return container;
  }

  setState(id: string, change: Partial<ContainerState>): Promise<Container> {
    return this.deps.store.update(id, (c) => ({ ...c, state: { ...c.state, ...change } }));
  }

  notify(container: Container | undefined, id: string, died: boolean): void {
    this.waiters.notify(container, id, died);
  }

  publish(topic: string, container: Container, extra: Record<string, string> = {}): void {
    this.deps.events.publish(topic, container.id, { name: container.name, image: container.config.image, ...extra });
  }
}

function stopSignalOf(container: Container): string {
  return container.config.stopSignal || container.imageConfig.StopSignal || 'SIGTERM';
}
