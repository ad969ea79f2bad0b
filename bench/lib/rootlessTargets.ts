// The four targets of the rootless benchmark (bench/rootless.ts), each with
// the same three kinds of work: a pull into a fresh store, `run --rm IMAGE
// /bin/true` with --network none through the CLI, and detached `sleep`s
// whose runtime memory is read with them running.
//
//   gantry           rootful gantryd (daemons.ts / gantryRuntimes.ts)
//   gantry-rootless  `gantry daemon` started by the test user: RootlessKit and
//                    the `catatonit -P` namespace holder (docs/rootless.md);
//                    the CLI runs as that user
//   podman-rootless  podman as the same user, its storage under the user's home
//   podman           rootful podman (anchorRuntimes.ts), for reference
//
// Commands run as the user go through `setpriv` (test/helpers/unixUser.ts
// asUser), for gantry and podman alike.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../runtime/client/daemonFlags';
import { RuntimeClient } from '../../runtime/client/client';
import { runCommand } from '../../test/helpers/proc';
import { asUser } from '../../test/helpers/unixUser';
import type { TestUser } from '../../test/integration/rootless/testUser';
import { podmanCli } from './anchorRuntimes';
import { timedOutput, type ContainerRuntime } from './containerRuntime';
import { startGantryd, untilAnswering } from './daemons';
import type { BenchImage } from './fixtures';
import { cleanup, start, timed, type WorkDir } from './harness';
import { descendants, listProcesses, matching, runtimeMemory, type ProcInfo, type RuntimeMemory } from './procmem';
import { subdirs } from './trees';

export const TARGET_IDS = ['gantry', 'gantry-rootless', 'podman-rootless', 'podman'] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** The work a target does; setup and teardown of a pull's fresh store are not timed. */
export interface PullTarget {
  label: TargetId;
  /** One pull of `image` into a store of its own (made before, retired after); ms. */
  pull(image: BenchImage, seq: number): Promise<number>;
}

/** `run --rm`, sleeps and memory: a ContainerRuntime's parts this benchmark uses. */
export type RunTarget = Pick<ContainerRuntime, 'startSleep' | 'runningNames' | 'allNames' | 'removeAll'> & {
  label: TargetId;
  runRm(): Promise<number>;
  memory(): Promise<RuntimeMemory>;
};

/** An image pulled into a store must have one unpacked tree per layer; else the pull did not unpack and fails the run. */
async function checkTrees(label: string, trees: string[], image: BenchImage): Promise<void> {
  if (trees.length !== image.layers.length) {
    throw new Error(`${label}: ${trees.length} unpacked trees after the pull of ${image.ref}; expected ${image.layers.length}`);
  }
}

// runtime/snapshots/select.ts + metadata.ts: <root>/snapshots/overlayfs/snapshots/<id>/fs (overlayfs, rootless too here: kernel >= 5.11).
const gantryTrees = (root: string) => subdirs(path.join(root, 'snapshots', 'overlayfs', 'snapshots'), 'fs');

const userArgv = (user: TestUser, cmd: string, args: readonly string[]) => asUser(user, cmd, args);

/** A command as `user` (setpriv), timed spawn to exit. */
function timedAs(user: TestUser, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = user.env): Promise<number> {
  const [c, a] = userArgv(user, cmd, args);
  return timed(c, a, { env });
}

function runAs(user: TestUser, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = user.env) {
  const [c, a] = userArgv(user, cmd, args);
  return runCommand(c, a, { env, cwd: user.home, timeout: 300_000 });
}

// ---- gantry, rootful --------------------------------------------------------

export function gantryPull(workDir: WorkDir, gantryJs: string): PullTarget {
  return {
    label: 'gantry',
    pull: async (image, seq) => {
      const dir = path.join(workDir.dir, `pull-gantry-${seq}`);
      const g = await startGantryd(dir, { gantryJs });
      try {
        await runCommand('sync', []);
        const ms = await timed(process.execPath, [gantryJs, '--socket', g.socket, 'pull', image.ref]);
        await checkTrees('gantry', await gantryTrees(g.root), image);
        return ms;
      } finally {
        await g.stop();
        await workDir.retire(dir);
      }
    },
  };
}

export function gantryRun(cli: ContainerRuntime): RunTarget {
  return {
    label: 'gantry',
    runRm: async () => (await cli.runRm[0].run(0)).ms,
    startSleep: cli.startSleep,
    runningNames: cli.runningNames,
    allNames: cli.allNames,
    removeAll: cli.removeAll,
    memory: async () => {
      const { daemon, monitors } = await cli.processes();
      return runtimeMemory(daemon, monitors);
    },
  };
}

// ---- gantry, rootless -------------------------------------------------------

export interface RootlessGantryd {
  socket: string;
  state: string;
  /** The `gantry daemon` the user started (setpriv execs into it: same pid). */
  pid: number;
  stop(): Promise<void>;
  /** gantryd, RootlessKit and the holder (everything but conmons and containers), and the conmons. */
  processes(): Promise<{ daemon: number[]; monitors: number[] }>;
}

/** `gantry daemon --root ROOT --state STATE` as `user`; resolves once it answers. It goes rootless by itself. */
export async function startRootlessGantryd(user: TestUser, gantryJs: string, root: string, state: string): Promise<RootlessGantryd> {
  const socket = path.join(state, 'gantry.sock');
  const [c, a] = userArgv(user, process.execPath, [...DAEMON_NODE_FLAGS, gantryJs, 'daemon', '--root', root, '--state', state]);
  const proc = start(c, a, { env: { ...user.env, ...DAEMON_ENV }, cwd: user.home, name: `rootless gantryd as ${user.name}` });
  await untilAnswering(proc, socket, { what: `rootless gantryd answering on ${socket}`, timeout: 60_000, interval: 50 });
  const rootlesskitState = path.join(state, 'rootlesskit');
  return {
    socket,
    state,
    pid: proc.pid,
    // SIGTERM: the outer daemon forwards it, waits, and ends the holder once nothing runs in it.
    stop: async () => {
      const status = await proc.stop(15_000);
      if (status.code !== 0 && status.signal !== 'SIGTERM')
        throw new Error(`rootless gantryd exited ${JSON.stringify(status)}:\n${proc.stderr}`);
    },
    processes: async () => {
      const procs = await listProcesses();
      const kit = procs.filter((p) => p.comm === 'rootlesskit' && p.argv.includes(`--state-dir=${rootlesskitState}`));
      // conmons daemonise out of both trees; their argv names the state dir (as gantryRuntimes.ts finds them).
      return splitMonitors(procs, [proc.pid, ...kit.map((p) => p.pid)], matching(procs, 'conmon', state));
    },
  };
}

/** The trees below `roots` and `conmons`, split into conmons and the rest, leaving out the containers' own processes (below a conmon). */
function splitMonitors(procs: readonly ProcInfo[], roots: number[], conmons: ProcInfo[]): { daemon: number[]; monitors: number[] } {
  const all = new Map<number, ProcInfo>();
  for (const r of roots) for (const p of descendants(procs, r)) all.set(p.pid, p);
  const monitors = [...new Map([...all.values(), ...conmons].filter((p) => p.comm === 'conmon').map((p) => [p.pid, p])).values()];
  const under = new Set(monitors.flatMap((m) => descendants(procs, m.pid).map((p) => p.pid)));
  return { daemon: [...all.keys()].filter((pid) => !under.has(pid)), monitors: monitors.map((m) => m.pid) };
}

export function rootlessGantryPull(user: TestUser, gantryJs: string): PullTarget {
  return {
    label: 'gantry-rootless',
    pull: async (image, seq) => {
      const root = path.join(user.home, `pull-gantry-${seq}`);
      const g = await startRootlessGantryd(user, gantryJs, root, path.join(user.runtimeDir, `pull-${seq}`));
      try {
        await runCommand('sync', []);
        const ms = await timedAs(user, process.execPath, [gantryJs, '--socket', g.socket, 'pull', image.ref]);
        await checkTrees('gantry-rootless', await gantryTrees(root), image);
        return ms;
      } finally {
        await g.stop();
        await fs.promises.rm(root, { recursive: true, force: true });
      }
    },
  };
}

export async function rootlessGantryRun(user: TestUser, gantryJs: string, image: BenchImage): Promise<RunTarget> {
  const g = await startRootlessGantryd(user, gantryJs, path.join(user.home, 'run-gantry'), path.join(user.runtimeDir, 'gantry'));
  const gantry = (args: string[]) => [gantryJs, '--socket', g.socket, ...args];
  cleanup.defer(() => g.stop().catch((e: unknown) => void process.stderr.write(`rootless gantryd stop: ${(e as Error).message}\n`)));
  // Runs before the daemon stops (LIFO): what is left goes while gantryd still knows it.
  cleanup.defer(async () => {
    const left = await names(true).catch(() => [] as string[]);
    if (left.length) await runAs(user, process.execPath, gantry(['rm', '-f', ...left])).catch(() => undefined);
  });
  await runAs(user, process.execPath, gantry(['pull', image.ref]));
  const names = async (all: boolean) => {
    const client = RuntimeClient.forSocket(g.socket);
    try {
      return (await client.containers.list(all)).map((c) => c.name.replace(/^\//, ''));
    } finally {
      client.close();
    }
  };
  return {
    label: 'gantry-rootless',
    runRm: () => timedAs(user, process.execPath, gantry(['run', '--rm', '--network', 'none', image.ref, '/bin/true'])),
    startSleep: (name) =>
      timedAs(user, process.execPath, gantry(['run', '-d', '--network', 'none', '--name', name, image.ref, 'sleep', '300'])),
    runningNames: () => names(false),
    allNames: () => names(true),
    removeAll: (list) => timedAs(user, process.execPath, gantry(['rm', '-f', ...list])),
    memory: async () => {
      const { daemon, monitors } = await g.processes();
      return runtimeMemory(daemon, monitors);
    },
  };
}

// ---- podman, rootless and rootful ------------------------------------------

/** podman as `user` with every dir under `dir` (podmanCli's options, the user's environment). */
function podmanAs(user: TestUser, dir: string) {
  const cli = podmanCli(dir);
  const env = { ...user.env, TMPDIR: path.join(dir, 'tmp') };
  return {
    timed: (args: string[]) => timedAs(user, 'podman', cli.args(args), env),
    output: (args: string[]) => {
      const [c, a] = userArgv(user, 'podman', cli.args(args));
      return timedOutput(c, a, { env });
    },
    run: (args: string[]) => runAs(user, 'podman', cli.args(args), env),
    /** Made by the user, as podman would (storage set up, untimed). */
    init: async () => {
      await runAs(user, 'mkdir', ['-p', path.join(dir, 'tmp')]);
      await runAs(user, 'podman', cli.args(['images', '-q']), env);
    },
  };
}

export function rootlessPodmanPull(user: TestUser): PullTarget {
  return {
    label: 'podman-rootless',
    pull: async (image, seq) => {
      const dir = path.join(user.home, `pull-podman-${seq}`);
      const p = podmanAs(user, dir);
      await p.init();
      try {
        await runCommand('sync', []);
        const ms = await p.timed(['pull', '-q', '--tls-verify=false', image.ref]);
        await checkTrees('podman-rootless', await subdirs(path.join(dir, 'root', 'overlay'), 'diff'), image);
        return ms;
      } finally {
        // Each --tmpdir gets a pause process of its own: this store's goes with it.
        const pause = pausePid(dir);
        if (pause) process.kill(pause, 'SIGKILL');
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    },
  };
}

export function podmanPull(workDir: WorkDir): PullTarget {
  return {
    label: 'podman',
    pull: async (image, seq) => {
      const dir = path.join(workDir.dir, `pull-podman-${seq}`);
      await fs.promises.mkdir(path.join(dir, 'tmp'), { recursive: true });
      const { args, env } = podmanCli(dir);
      await runCommand('podman', args(['images', '-q']), { env, timeout: 60_000 });
      try {
        await runCommand('sync', []);
        const ms = await timed('podman', args(['pull', '-q', '--tls-verify=false', image.ref]), { env });
        await checkTrees('podman', await subdirs(path.join(dir, 'root', 'overlay'), 'diff'), image);
        return ms;
      } finally {
        await workDir.retire(dir);
      }
    },
  };
}

export async function rootlessPodmanRun(user: TestUser, image: BenchImage): Promise<RunTarget> {
  const dir = path.join(user.home, 'run-podman');
  const p = podmanAs(user, dir);
  cleanup.defer(() =>
    p.run(['rm', '-f', '-t', '0', '--all']).then(
      () => undefined,
      () => undefined,
    ),
  );
  await p.init();
  await p.run(['pull', '-q', '--tls-verify=false', image.ref]);
  const ps = async (all: boolean) =>
    (await p.output(['ps', ...(all ? ['-a'] : []), '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  return {
    label: 'podman-rootless',
    runRm: () => p.timed(['run', '--rm', '--network', 'none', image.ref, '/bin/true']),
    startSleep: (name) => p.timed(['run', '-d', '--network', 'none', '--name', name, image.ref, 'sleep', '300']),
    runningNames: () => ps(false),
    allNames: () => ps(true),
    // -t 0: SIGKILL at once (a `sleep` as PID 1 ignores SIGTERM).
    removeAll: (list) => p.timed(['rm', '-f', '-t', '0', ...list]),
    // No daemon: its conmons, and its pause process (podman's namespace holder, a `catatonit -P`).
    memory: async () => {
      const pause = pausePid(dir);
      return runtimeMemory(
        pause ? [pause] : [],
        matching(await listProcesses(), 'conmon', dir).map((x) => x.pid),
      );
    },
  };
}

export function podmanRun(rt: ContainerRuntime): RunTarget {
  return {
    label: 'podman',
    runRm: async () => (await rt.runRm[0].run(0)).ms,
    startSleep: rt.startSleep,
    runningNames: rt.runningNames,
    allNames: rt.allNames,
    removeAll: rt.removeAll,
    memory: async () => {
      const { daemon, monitors } = await rt.processes();
      return runtimeMemory(daemon, monitors);
    },
  };
}

/** Rootless podman's pause process for the storage in `dir`: podman keeps its pid in <--tmpdir>/pause.pid. */
function pausePid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'libpod', 'pause.pid'), 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
