// A scratch world for task tests: a short temp dir (unix socket paths must
// stay under 108 bytes) holding runc's root, the shared exit dir and one
// bundle per task over a shared busybox rootfs; an ExitWatcher whose reports
// tests can await; and leak checks — after each test no conmon of ours may
// run and runc must list nothing.
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { busyboxRootfs, writeBundle, type BundleOptions } from '../../helpers/bundle';
import { makeTempDir, removeTempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';
import { background } from '../../../runtime/context';
import { cgroupDirsOf, removeCgroupDirs } from '../../../runtime/tasks/cgroups';
import { createTask } from '../../../runtime/tasks/conmon';
import { ExitWatcher } from '../../../runtime/tasks/exits';
import { processAlive, processArgv } from '../../../runtime/tasks/proc';
import { Runc } from '../../../runtime/tasks/runc';
import type { CreateTaskOptions, CreatedTask } from '../../../runtime/tasks/tasks';

export const RUNC = '/usr/sbin/runc';
export const CONMON = '/usr/bin/conmon';

// A prefix per test process: IDs also name cgroups (<conmon's cgroup>/<id>),
// which are shared with anyone else running tests on this machine.
const RUN = crypto.randomBytes(3).toString('hex');
let rootfsDir: Promise<string> | undefined;

export interface TaskPaths {
  readonly id: string;
  readonly bundle: string;
  readonly logPath: string;
  readonly persistDir: string;
}

export class TaskEnv {
  readonly runc: Runc;
  readonly runcRoot: string;
  readonly exitDir: string;
  readonly watcher: ExitWatcher;
  private readonly exits = new Map<string, number>();
  private readonly waiters = new Map<string, (code: number) => void>();
  private readonly ids = new Set<string>();
  private n = 0;

  private constructor(
    readonly dir: string,
    readonly rootfs: string,
  ) {
    this.runcRoot = path.join(dir, 'runc');
    this.exitDir = path.join(dir, 'exits');
    this.runc = new Runc({ binary: RUNC, root: this.runcRoot });
    this.watcher = new ExitWatcher(this.exitDir, {
      onExit: (id, code) => {
        this.exits.set(id, code);
        this.waiters.get(id)?.(code);
      },
    });
  }

  static async create(): Promise<TaskEnv> {
    // The rootfs outlives every suite (removed at process exit): busyboxRootfs caches it per process.
    rootfsDir ??= makeTempDir('gtr');
    const rootfs = await busyboxRootfs(await rootfsDir);
    return new TaskEnv(await makeTempDir('gt'), rootfs);
  }

  /** A fresh task ID (unique on this machine) and its paths; the bundle is written from `bundle`. */
  async prepare(name: string, bundle: Omit<BundleOptions, 'rootfs'>): Promise<TaskPaths> {
    const id = `${name}-${RUN}-${++this.n}`;
    this.ids.add(id);
    const dir = path.join(this.dir, `b${this.n}`);
    await writeBundle(dir, { rootfs: this.rootfs, ...bundle });
    return { id, bundle: dir, logPath: path.join(dir, 'ctr.log'), persistDir: path.join(dir, 'persist') };
  }

  options(p: TaskPaths, extra: Partial<CreateTaskOptions> = {}): CreateTaskOptions {
    return {
      id: p.id,
      bundle: p.bundle,
      conmonPath: CONMON,
      runcPath: RUNC,
      runcRoot: this.runcRoot,
      logPath: p.logPath,
      logSizeMax: 0,
      exitDir: this.exitDir,
      persistDir: p.persistDir,
      tty: false,
      stdin: false,
      ...extra,
    };
  }

  /** prepare + createTask + runc start. */
  async run(name: string, bundle: Omit<BundleOptions, 'rootfs'>, extra: Partial<CreateTaskOptions> = {}): Promise<TaskPaths & CreatedTask> {
    const p = await this.prepare(name, bundle);
    const task = await createTask(background(), this.options(p, extra));
    await this.runc.start(p.id);
    return { ...p, ...task };
  }

  /** The exit code the watcher reported for `id` (waits for it). */
  exitOf(id: string): Promise<number> {
    const known = this.exits.get(id);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  /** Resolves once `text` is in the task's log; the predicate sees the whole file. */
  async waitForLog(p: TaskPaths, text: string): Promise<string> {
    let log = '';
    return waitFor(
      async () => {
        log = await fs.promises.readFile(p.logPath, 'utf8').catch(() => '');
        return log.includes(text) && log;
      },
      { what: `"${text}" in ${p.logPath}`, describe: () => log.slice(-500) },
    );
  }

  /** Live (non-zombie) conmon processes monitoring one of this env's tasks. */
  liveMonitors(): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      const argv = processArgv(pid);
      if (!argv || path.basename(argv[0] ?? '') !== 'conmon') continue;
      const cid = argv[argv.indexOf('-c') + 1];
      if (cid !== undefined && this.ids.has(cid) && processAlive(pid)) pids.push(pid);
    }
    return pids;
  }

  /**
   * Asserts that the test left nothing behind (no live monitor, runc lists
   * nothing), then force-cleans whatever it did leave, so one failure does
   * not cascade.
   */
  async checkAndReset(): Promise<void> {
    let monitors = this.liveMonitors();
    await waitFor(() => (monitors = this.liveMonitors()).length === 0, { what: 'no live monitor', timeoutMs: 5000 }).catch(() => undefined);
    const listed = (await this.runc.list()).map((s) => `${s.id}:${s.status}`);
    // Bundles leave cgroupsPath empty: runc makes <conmon's cgroup>/<id>, and conmon's cgroup is ours.
    const ours = await cgroupDirsOf(process.pid);
    const cgroups = [...this.ids].flatMap((id) => ours.map((d) => path.join(d, id))).filter((d) => fs.existsSync(d));
    try {
      assert.deepEqual(monitors, [], 'conmon processes left running');
      assert.deepEqual(listed, [], 'runc still lists tasks');
      assert.deepEqual(cgroups, [], 'task cgroups left behind');
    } finally {
      for (const s of await this.runc.list()) await this.runc.delete(s.id, { force: true });
      for (const pid of this.liveMonitors()) process.kill(pid, 'SIGKILL');
      await removeCgroupDirs(cgroups);
    }
  }

  async dispose(): Promise<void> {
    this.watcher.close();
    await removeTempDir(this.dir);
  }
}

/**
 * The hooks every task suite shares: a TaskEnv for the suite, checked and
 * reset after each test, disposed at the end. `use` receives it.
 */
export function useTaskEnv(use: (env: TaskEnv) => void): void {
  let env: TaskEnv | undefined;
  before(async () => {
    env = await TaskEnv.create();
    use(env);
  });
  afterEach(() => env?.checkAndReset());
  after(() => env?.dispose());
}
