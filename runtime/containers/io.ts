/**
 * A container's streams and live views: logs, attach, exec, stats and top.
 * These read the task (its log, its conmon sockets, its cgroups) and never
 * change the container's record, so they run outside the container's lock;
 * the lifecycle stays in service.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Ctx } from '../context';
import { failedPrecondition, isNotFound } from '../errdefs/errdefs';
import { attach, type AttachSession } from '../tasks/attach';
import { resizeTerminal } from '../tasks/conmon';
import { exec, type ExecSession } from '../tasks/exec/exec';
import type { OutputFrame } from '../tasks/frames';
import { logFiles, readLogs, stopWhenGone, type LogEntry, type LogStream } from '../tasks/logs/logs';
import type { Runc } from '../tasks/runc';
import { cpuPercent, readStats, type ContainerStats } from '../tasks/stats';
import { top } from '../tasks/top';
import type { Container } from './containers';
import { cgroupsPathOf, type AfterCreate, type Launcher } from './launcher';
import { isActive, isUp, type WaitCondition } from './waiters';
import type { ContainerRecords } from './serviceDeps';
import { resolveUser } from '../oci/specgen/user';

const FIRST_SAMPLE_GAP_MS = 250;

/** The two lifecycle verbs attach needs (ContainerService has them): start once attached, and the exit code of the run. */
export interface AttachLifecycle {
  start(ctx: Ctx, id: string, afterCreate: AfterCreate): Promise<unknown>;
  wait(ctx: Ctx, id: string, condition: WaitCondition): Promise<number>;
}

export interface IOConfig {
  readonly records: Pick<ContainerRecords, 'get' | 'resolve' | 'logPathOf'>;
  readonly lifecycle: AttachLifecycle;
  readonly launcher: Launcher;
  readonly runc: Runc;
  readonly runcPath: string;
  readonly conmonPath: string;
  readonly stateDir: string;
}

export interface LogsOptions {
  readonly follow: boolean;
  readonly tail?: number;
  readonly since?: Date;
  readonly until?: Date;
  readonly streams: readonly LogStream[];
}

/** An attached client's view of a container: its output, its stdin, and the exit code of the run. */
export interface Attached {
  readonly output: AsyncIterable<OutputFrame>;
  readonly exitCode: Promise<number>;
  write(data: Buffer): Promise<void>;
  resize(rows: number, cols: number): void;
  closeStdin(): Promise<void>;
  close(): void;
}

export interface ExecOptions {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly size?: { rows: number; cols: number };
}

export interface ContainerStatsSample {
  readonly read: Date;
  readonly cpuPercent: number;
  readonly cpuTotalNs: number;
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly pids: number;
  readonly pidsLimit: number;
}

export class ContainerIO {
  /** The previous sample per container, for CPU % between two reads (as `docker stats`). */
  private readonly lastSample = new Map<string, ContainerStats>();

  constructor(private readonly config: IOConfig) {}

  logs(ctx: Ctx, ref: string, opts: LogsOptions): AsyncIterable<LogEntry> {
    const { records } = this.config;
    const { id } = records.resolve(ref);
    const current = () => records.get(id);
    return readLogs(ctx, logFiles(records.logPathOf(id)), {
      tail: opts.tail,
      since: opts.since,
      until: opts.until,
      streams: opts.streams,
      follow: opts.follow
        ? {
            // A follower keeps going across a restart of the container; it ends once it is removed or stays down.
            shouldStop: stopWhenGone({
              isRunning: () => {
                const c = current();
                return c !== undefined && isUp(c);
              },
              isRemoved: () => current() === undefined,
            }),
          }
        : undefined,
    });
  }

  /** Joins the container's stdio; with `start`, starts it once attached so no output is missed. */
  async attach(ctx: Ctx, ref: string, opts: { stdin: boolean; start: boolean; size?: { rows: number; cols: number } }): Promise<Attached> {
    const { records, lifecycle, launcher } = this.config;
    const container = records.resolve(ref);
    const exitCode = lifecycle.wait(ctx, container.id, 'next-exit');
    exitCode.catch(() => undefined); // the caller may go away before the exit
    let session: AttachSession | undefined;
    if (opts.start && !isActive(container)) {
      await lifecycle.start(ctx, container.id, async (bundle) => {
        session = await attach(bundle, { stdin: opts.stdin });
        // The pty exists now and the process has not run: it starts at the client's size.
        if (container.config.tty && opts.size?.rows && opts.size.cols) resizeTerminal(bundle, opts.size.rows, opts.size.cols);
      });
    }
    if (!session) {
      const now = records.resolve(container.id);
      if (now.state.status !== 'running') {
        throw failedPrecondition(`you cannot attach to a ${now.state.status} container, start it first`);
      }
      session = await attach(launcher.bundleOf(container.id), { stdin: opts.stdin });
    }
    const attached = session;
    const bundle = launcher.bundleOf(container.id);
    return {
      output: attached.output,
      exitCode,
      write: (data) => attached.write(data),
      resize: (rows, cols) => resizeTerminal(bundle, rows, cols),
      closeStdin: () => attached.closeStdin(),
      close: () => attached.close(),
    };
  }

  /** Runs a process in the running container; `id` names the session (its directory under <state>/exec). */
  async exec(ctx: Ctx, ref: string, opts: ExecOptions): Promise<{ id: string; session: ExecSession }> {
    const { launcher } = this.config;
    const container = this.running(ref);
    const user = opts.user ? await resolveUser(launcher.rootfsOf(container.id), opts.user) : undefined;
    const id = randomBytes(16).toString('hex');
    const session = await exec(ctx, {
      containerId: container.id,
      bundle: launcher.bundleOf(container.id),
      runcPath: this.config.runcPath,
      conmonPath: this.config.conmonPath,
      runcRoot: launcher.runcRoot,
      sessionDir: path.join(this.config.stateDir, 'exec', id),
      args: [...opts.args],
      env: [...opts.env],
      user,
      cwd: opts.workingDir,
      tty: opts.tty,
      stdin: opts.stdin,
      consoleSize: opts.size && opts.size.rows > 0 && opts.size.cols > 0 ? opts.size : undefined,
    });
    return { id, session };
  }

  async stats(_ctx: Ctx, ref: string): Promise<ContainerStatsSample> {
    const container = this.running(ref);
    for (const id of this.lastSample.keys()) if (!this.config.records.get(id)) this.lastSample.delete(id);
    const read = () => readStats(cgroupsPathOf(container.id), container.state.pid);
    let previous = this.lastSample.get(container.id);
    if (!previous) {
      // CPU % is a rate: a first read needs a second one shortly after it (docker stats waits too).
      previous = await read();
      await new Promise((resolve) => setTimeout(resolve, FIRST_SAMPLE_GAP_MS));
    }
    const sample = await read();
    this.lastSample.set(container.id, sample);
    return {
      read: sample.read,
      cpuPercent: previous ? cpuPercent(previous, sample) : 0,
      cpuTotalNs: sample.cpu.usageNs,
      memoryUsage: sample.memory.used,
      memoryLimit: sample.memory.limit,
      pids: sample.pids.current,
      pidsLimit: sample.pids.limit,
    };
  }

  /** One raw cgroup sample of a running container (the CRI's stats read the same numbers as `stats`). */
  cgroupSample(container: Container): Promise<ContainerStats> {
    return readStats(cgroupsPathOf(container.id), container.state.pid);
  }

  /** Changes a live task's cgroup limits (OCI `linux.resources`) through `runc update`. */
  updateResources(ctx: Ctx, id: string, resources: Readonly<Record<string, unknown>>): Promise<void> {
    return this.config.runc.update(id, resources, ctx);
  }

  async top(_ctx: Ctx, ref: string): Promise<{ titles: string[]; processes: string[][] }> {
    const container = this.running(ref);
    return top(await this.config.runc.ps(container.id));
  }

  /** The bundle's config.json, or '' when the container has no bundle now. */
  async specJson(id: string): Promise<string> {
    try {
      return await fs.promises.readFile(path.join(this.config.launcher.bundleOf(id), 'config.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || isNotFound(e)) return '';
      throw e;
    }
  }

  private running(ref: string): Container {
    const container = this.config.records.resolve(ref);
    if (container.state.status !== 'running') {
      throw failedPrecondition(`container ${container.name} is not running`);
    }
    return container;
  }
}
