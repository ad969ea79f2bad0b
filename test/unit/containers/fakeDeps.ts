// Fakes of the container service's dependencies (runtime/containers/serviceDeps.ts):
// records in memory, a task side that records every call and exits when a
// terminating signal is sent, a clock whose timers run only when the test says.
import type { Ctx } from '../../../runtime/context';
import { initialState, type Container, type ContainerConfig, type ContainerState } from '../../../runtime/containers/containers';
import { ContainerService } from '../../../runtime/containers/service';
import type {
  Clock,
  ContainerHealth,
  ContainerImages,
  ContainerRecords,
  ContainerSnapshots,
  ContainerTasks,
  HealthRecorder,
  Timer,
} from '../../../runtime/containers/serviceDeps';
import { conflict, failedPrecondition, notFound } from '../../../runtime/errdefs/errdefs';
import type { Event, Publisher } from '../../../runtime/events/events';
import { silentLogger } from '../../../runtime/util/log';

import { containerConfig } from '../../helpers/containerConfig';

export { containerConfig };

export function containerRecord(
  id: string,
  name: string,
  state: Partial<ContainerState> = {},
  config: Partial<ContainerConfig> = {},
): Container {
  return {
    id,
    name,
    createdAt: '2026-12-01T10:00:00.000Z',
    config: containerConfig(config),
    imageName: 'docker.io/library/busybox:latest',
    imageId: `sha256:${'b'.repeat(64)}`,
    imageConfig: {},
    args: ['sh'],
    snapshotter: 'fake',
    snapshotKey: `container-${id}`,
    state: { ...initialState(), ...state },
  };
}

export class FakeRecords implements ContainerRecords {
  readonly records = new Map<string, Container>();

  get(id: string): Container | undefined {
    return this.records.get(id);
  }

  list(): Container[] {
    return [...this.records.values()];
  }

  resolve(ref: string): Container {
    const found = this.records.get(ref) ?? this.list().find((c) => c.name === ref);
    if (found) return found;
    const byPrefix = this.list().filter((c) => c.id.startsWith(ref));
    if (byPrefix.length > 1) throw conflict(`container ID prefix ${ref} is ambiguous`);
    if (byPrefix.length === 1) return byPrefix[0];
    throw notFound(`no such container: ${ref}`);
  }

  async add(container: Container): Promise<void> {
    this.records.set(container.id, container);
  }

  async update(id: string, change: (current: Container) => Container): Promise<Container> {
    const current = this.records.get(id);
    if (!current) throw notFound(`no such container: ${id}`);
    const next = change(current);
    this.records.set(id, next);
    return next;
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }

  logPathOf(id: string): string {
    return `/fake/${id}/container.log`;
  }
}

export const fakeImages: ContainerImages = {
  resolve: (nameOrId) => ({ name: nameOrId, id: `sha256:${'b'.repeat(64)}`, snapshot: { snapshotter: 'fake', chainId: 'sha256:chain' } }),
  inspect: async () => ({ config: { config: { Cmd: ['sh'] } } }),
};

export class FakeSnapshots implements ContainerSnapshots {
  readonly name = 'fake';
  readonly keys = new Set<string>();

  async prepare(_ctx: Ctx, key: string): Promise<void> {
    this.keys.add(key);
  }

  async remove(_ctx: Ctx, key: string): Promise<void> {
    if (!this.keys.delete(key)) throw notFound(`snapshot ${key} not found`);
  }
}

const EXIT_ON = new Set(['SIGKILL', 'SIGTERM']);
const SIGNAL_NUMBERS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15 };

/**
 * The task side. `calls` lists every call as "verb arg…". A task ends when
 * sent SIGKILL or SIGTERM (or `exit` is called): its exit file is written and
 * `onExit` is told, as the exit watcher would.
 */
export class FakeTasks implements ContainerTasks {
  readonly calls: string[] = [];
  readonly live = new Set<string>();
  readonly exitFiles = new Map<string, number>();
  onExit: (id: string, code: number) => void = () => undefined;
  /** Makes the next `destroy` fail, as a busy mount would. */
  failDestroy = false;
  /** Makes `launch` fail, as a missing binary would. */
  failLaunch = false;
  private pids = 100;

  withDefaults(config: ContainerConfig): ContainerConfig {
    return config;
  }

  privilegesOf(): never {
    throw new Error('not used');
  }

  bundleOf(id: string): string {
    return `/fake/tasks/${id}`;
  }

  async writeBundle(_ctx: Ctx, container: Container): Promise<void> {
    this.calls.push(`writeBundle ${container.name}`);
  }

  async launch(_ctx: Ctx, container: Container): Promise<{ pid: number; monitorPid: number }> {
    this.calls.push(`launch ${container.name}`);
    if (this.failLaunch) throw failedPrecondition('exec: "/bin/nonexistent": no such file or directory');
    this.live.add(container.id);
    this.exitFiles.delete(container.id);
    return { pid: ++this.pids, monitorPid: ++this.pids };
  }

  async kill(id: string, signal: string): Promise<void> {
    this.calls.push(`kill ${signal}`);
    if (!this.live.has(id)) throw notFound(`task ${id} not found`);
    if (EXIT_ON.has(signal)) this.exit(id, 128 + SIGNAL_NUMBERS[signal]);
  }

  async pause(id: string): Promise<void> {
    this.calls.push('pause');
    if (!this.live.has(id)) throw failedPrecondition('container not running');
  }

  async resume(id: string): Promise<void> {
    this.calls.push('resume');
    if (!this.live.has(id)) throw failedPrecondition('container not paused');
  }

  async isGone(id: string): Promise<boolean> {
    return !this.live.has(id);
  }

  async readExit(id: string): Promise<number | undefined> {
    return this.exitFiles.get(id);
  }

  async clearExit(id: string): Promise<void> {
    this.exitFiles.delete(id);
  }

  async oomKilled(): Promise<boolean> {
    return false;
  }

  async teardown(): Promise<void> {
    this.calls.push('teardown');
  }

  async destroy(id: string): Promise<void> {
    this.calls.push('destroy');
    if (this.failDestroy) {
      this.failDestroy = false;
      throw failedPrecondition(`rootfs of ${id} is still mounted`);
    }
    this.exitFiles.delete(id);
  }

  rotateLog(): void {}

  /** The task ends with `code`: conmon writes the exit file, the watcher reports it. */
  exit(id: string, code: number): void {
    this.live.delete(id);
    this.exitFiles.set(id, code);
    this.onExit(id, code);
  }
}

export class FakeHealth implements ContainerHealth {
  readonly calls: string[] = [];
  recorder: HealthRecorder | undefined;

  configOf(): undefined {
    return undefined;
  }

  watch(_container: Container, record: HealthRecorder): void {
    this.calls.push('watch');
    this.recorder = record;
  }

  suspend(): void {
    this.calls.push('suspend');
  }

  stop(): void {
    this.calls.push('stop');
  }

  close(): void {}
}

export class FakeEvents implements Publisher {
  readonly topics: string[] = [];

  publish(topic: string, id = '', attributes: Record<string, string> = {}): Event {
    this.topics.push(topic);
    return { sequence: this.topics.length, timestamp: new Date(0), topic, id, attributes };
  }
}

/** Timers run only when the test calls `fire` (the due ones, in order of their time). */
export class FakeClock implements Clock {
  private time = Date.parse('2026-12-01T10:00:00.000Z');
  private readonly timers = new Set<{ at: number; run: () => void }>();

  now(): Date {
    return new Date(this.time);
  }

  after(ms: number, run: () => void): Timer {
    const timer = { at: this.time + ms, run };
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }

  /** Delays of the timers pending now. */
  pending(): number[] {
    return [...this.timers].map((t) => t.at - this.time);
  }

  /** Moves time on by `ms` and runs the timers that came due. */
  advance(ms: number): void {
    this.time += ms;
    for (const timer of [...this.timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > this.time) continue;
      this.timers.delete(timer);
      timer.run();
    }
  }
}

export interface World {
  readonly service: ContainerService;
  readonly records: FakeRecords;
  readonly tasks: FakeTasks;
  readonly snapshots: FakeSnapshots;
  readonly health: FakeHealth;
  readonly events: FakeEvents;
  readonly clock: FakeClock;
}

export function world(): World {
  const records = new FakeRecords();
  const tasks = new FakeTasks();
  const snapshots = new FakeSnapshots();
  const health = new FakeHealth();
  const events = new FakeEvents();
  const clock = new FakeClock();
  const service = new ContainerService({
    store: records,
    images: fakeImages,
    snapshotter: snapshots,
    tasks,
    events,
    health,
    log: silentLogger,
    clock,
  });
  tasks.onExit = (id, code) => service.onTaskExit(id, code);
  return { service, records, tasks, snapshots, health, events, clock };
}

/** Lets queued work (exit handling, behind the container's lock) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}
