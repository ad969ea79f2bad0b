/**
 * Start-up reconciliation: containers outlive gantryd, so a new daemon
 * rebuilds what it knows from files — the records, runc's state, conmon's pid
 * files and exit files — and removes what a crash left half-made.
 *
 * For each record:
 *   task running/paused under a live conmon    → adopted (status, pids, health checks)
 *   exit file present                          → the exit is handled as if seen live
 *                                                (code recorded, restart policy applied)
 *   task running without its conmon            → killed: nobody holds its stdio or
 *                                                would record its exit (137)
 *   no task and no exit file (reboot, wiped    → exited with 255 and an error saying so
 *   state dir)
 *   restarting                                 → its restart is scheduled again
 *   exited with policy always, or unless-stopped and not stopped by the user
 *                                              → started, as Docker does at daemon start
 * Before that, the networks: every attachment of a container whose task is
 * not alive under its conmon is released (CNI DEL, ports, namespace), the
 * live ones are checked and keep their addresses and ports.
 * Then leftovers with no record: runc tasks (killed and deleted), bundle
 * directories (unmounted and removed), exit files, `container-*` snapshots,
 * and record directories without a record file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { background, type Ctx } from '../context';
import type { Snapshotter } from '../snapshots/snapshots';
import { isMonitorOf, readPidFile } from '../tasks/proc';
import type { Runc } from '../tasks/runc';
import type { RuncState } from '../tasks/tasks';
import type { Logger } from '../util/log';
import type { Launcher } from './launcher';
import type { ContainerNetworks } from './networking';
import type { ContainerService } from './service';
import type { FileContainerStore } from './store';
import { readdirOrEmpty } from '../util/files';

export interface RecoveryDeps {
  readonly store: FileContainerStore;
  readonly launcher: Launcher;
  readonly runc: Runc;
  readonly snapshotter: Snapshotter;
  readonly service: ContainerService;
  readonly log: Logger;
  /** CNI networks: what dead containers left is released, running ones checked (networking.ts). */
  readonly networks?: ContainerNetworks;
}

export interface RecoveryReport {
  readonly adopted: string[];
  readonly exited: string[];
  readonly restarted: string[];
  readonly removedLeftovers: string[];
}

export async function recoverContainers(deps: RecoveryDeps, ctx: Ctx = background()): Promise<RecoveryReport> {
  const { store, launcher, runc, service, log } = deps;
  const tasks = new Map((await runc.list(ctx)).map((t) => [t.id, t] as const));
  const report: RecoveryReport = { adopted: [], exited: [], restarted: [], removedLeftovers: [] };
  const alive = new Set<string>();
  for (const container of store.list()) {
    const task = tasks.get(container.id);
    const live = task && (task.status === 'running' || task.status === 'paused' || task.status === 'created');
    if (!live || (await launcher.readExit(container.id)) !== undefined) continue;
    if (isMonitorOf((await readPidFile(path.join(launcher.bundleOf(container.id), 'conmon.pid'))) ?? 0, container.id))
      alive.add(container.id);
  }
  await deps.networks?.recover(ctx, alive).catch((error: unknown) => log.warn('recovering networks failed', { error }));

  for (const container of store.list()) {
    const { id } = container;
    const task = tasks.get(id);
    const exitCode = await launcher.readExit(id);
    const monitorPid = (await readPidFile(path.join(launcher.bundleOf(id), 'conmon.pid'))) ?? 0;
    const live = task && (task.status === 'running' || task.status === 'paused' || task.status === 'created');
    if (exitCode !== undefined) {
      await service.adopt(id, task, monitorPid);
      service.onTaskExit(id, exitCode);
      report.exited.push(id);
    } else if (live && isMonitorOf(monitorPid, id)) {
      await service.adopt(id, task, monitorPid);
      report.adopted.push(id);
    } else if (live) {
      log.warn('container task lost its monitor; killing it', { id, monitorPid });
      await runc.kill(id, 'SIGKILL', { all: true }).catch(() => undefined);
      await service.adopt(id, task, 0);
      service.onTaskExit(id, 137, true, 'the container monitor (conmon) died; the task was killed');
      report.exited.push(id);
    } else if (container.state.status === 'running' || container.state.status === 'paused') {
      await service.adopt(id, undefined, 0);
      service.onTaskExit(id, 255, true, 'the task was gone when gantryd started (host rebooted or state lost)');
      report.exited.push(id);
    } else if (await service.restartOnDaemonStart(container)) {
      report.restarted.push(id);
    }
  }

  for (const [id, task] of tasks) {
    if (store.get(id)) continue;
    await removeStrayTask(runc, task);
    report.removedLeftovers.push(`task ${id}`);
  }
  for (const id of await launcher.bundleIds()) {
    if (store.get(id)) continue;
    await launcher.destroy(id);
    report.removedLeftovers.push(`bundle ${id}`);
  }
  for (const name of await readdirOrEmpty(launcher.exitDir)) {
    if (store.get(name) || name.startsWith('.')) continue;
    await launcher.clearExit(name);
    report.removedLeftovers.push(`exit file ${name}`);
  }
  const strays: string[] = [];
  await deps.snapshotter.walk(ctx, (info) => {
    const id = info.name.startsWith('container-') ? info.name.slice('container-'.length) : undefined;
    if (id && !store.get(id)) strays.push(info.name);
  });
  for (const key of strays) {
    await deps.snapshotter.remove(ctx, key);
    report.removedLeftovers.push(`snapshot ${key}`);
  }
  for (const dir of await store.orphanDirs()) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    report.removedLeftovers.push(`record dir ${path.basename(dir)}`);
  }
  return report;
}

async function removeStrayTask(runc: Runc, task: RuncState): Promise<void> {
  if (task.status !== 'stopped') await runc.kill(task.id, 'SIGKILL', { all: true }).catch(() => undefined);
  await runc.delete(task.id, { force: true });
}
