// The anchors of the containers benchmark, each set up in a dir of its own
// under the run's work dir, the image made ready before anything is timed:
//
//   ctr     containerd 1.6 started by the bench (daemons.ts), image pulled with
//           `ctr images pull --plain-http` into the overlayfs snapshotter;
//           `ctr run` with runc's root and the IO fifos in the run's dir
//   podman  no daemon: --root/--runroot/--tmpdir (and TMPDIR) in the run's dir,
//           cgroupfs, no events, runc, `--network none` (gantry's default is a
//           network namespace with only loopback; podman's bridge would add CNI)
//   runc    the floor: the image unpacked once (skopeo copy + umoci unpack)
//           into a rootfs shared by two bundles (/bin/true, sleep 300); no
//           snapshot, no monitor, no daemon
//
// Each registers its safety net on the harness's cleanup stack as soon as it
// exists, so Ctrl-C at any point leaves no container, shim, conmon or mount.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../../test/helpers/proc';
import {
  forceCleanupRunc,
  killDetachedChildren,
  noteLeftovers,
  removeEmptyCgroups,
  runcList,
  tableRows,
  timedDetached,
  timedOutput,
  type ContainerRuntime,
} from './containerRuntime';
import { startContainerd } from './daemons';
import type { BenchImage } from './fixtures';
import { cleanup, timed } from './harness';
import { daemonAndMonitors, listProcesses, matching } from './procmem';

export async function setupCtr(dir: string, image: BenchImage): Promise<ContainerRuntime> {
  const containerd = await startContainerd(dir);
  const runcRoot = path.join(dir, 'runc');
  const runcNsRoot = path.join(runcRoot, 'default'); // the shim adds the namespace to --runc-root
  const fifoDir = path.join(dir, 'fifo');
  const ctr = (args: string[]) => ['-a', containerd.socket, ...args];
  // Runs before the daemon is stopped (the stack is LIFO): ask containerd first, then runc directly.
  cleanup.defer(async () => {
    const left = await runCommand('ctr', ctr(['containers', 'ls', '-q']), { timeout: 20_000 }).then(
      (r) => r.stdout.split('\n').filter(Boolean),
      () => [],
    );
    if (left.length) {
      await runCommand('ctr', ctr(['tasks', 'rm', '-f', ...left]), { timeout: 60_000 }).catch(() => undefined);
      await runCommand('ctr', ctr(['containers', 'rm', ...left]), { timeout: 60_000 }).catch(() => undefined);
    }
    const found = await forceCleanupRunc(runcNsRoot, 'containerd-shim*', dir);
    noteLeftovers('containerd', { containers: Math.max(found.containers, left.length), monitors: found.monitors });
  });
  await runCommand('ctr', ctr(['images', 'pull', '--plain-http', '--snapshotter', 'overlayfs', image.ref]), { timeout: 120_000 });
  const run = (args: string[]) => ctr(['run', '--snapshotter', 'overlayfs', '--runc-root', runcRoot, '--fifo-dir', fifoDir, ...args]);
  const tasks = async () => {
    const { ms, stdout } = await timedOutput('ctr', ctr(['tasks', 'ls']));
    // TASK PID STATUS
    return { ms, rows: tableRows(stdout).map((l) => l.trim().split(/\s+/)) };
  };
  return {
    tool: 'ctr',
    runRm: [{ row: 'ctr', run: async (seq) => ({ ms: await timed('ctr', run(['--rm', image.ref, `rm-${seq}`, '/bin/true'])) }) }],
    // --null-io: a detached task's output goes nowhere (ctr would otherwise leave fifos wired to its own, gone, stdio).
    startSleep: (name) => timed('ctr', run(['-d', '--null-io', image.ref, name, 'sleep', '300'])),
    runningNames: async () => (await tasks()).rows.filter((r) => r[2] === 'RUNNING').map((r) => r[0]),
    allNames: async () => tableRows((await timedOutput('ctr', ctr(['containers', 'ls']))).stdout).map((l) => l.split(/\s+/)[0]),
    listers: [
      {
        label: 'ctr tasks ls',
        run: async () => {
          const { ms, rows } = await tasks();
          return { ms, running: rows.filter((r) => r[2] === 'RUNNING').length };
        },
      },
      {
        label: 'ctr containers ls',
        run: async () => {
          const { ms, stdout } = await timedOutput('ctr', ctr(['containers', 'ls']));
          return { ms, running: tableRows(stdout).length };
        },
      },
    ],
    // A running task must go before its container: two ctr commands, both timed.
    removeAll: async (names) =>
      (await timed('ctr', ctr(['tasks', 'rm', '-f', ...names]))) + (await timed('ctr', ctr(['containers', 'rm', ...names]))),
    processes: () => daemonAndMonitors(containerd.proc.pid, 'containerd-shim*', dir),
    forceCleanup: async () => noteLeftovers('containerd', await forceCleanupRunc(runcNsRoot, 'containerd-shim*', dir)),
  };
}

/**
 * podman as the benchmarks run it, with everything in `dir`: the global
 * options before a subcommand, and TMPDIR. No daemon, so any command works
 * against the same storage (bench/network.ts runs its own).
 */
export function podmanCli(dir: string): { args: (args: string[]) => string[]; env: NodeJS.ProcessEnv } {
  return {
    args: (args) => [
      '--root',
      path.join(dir, 'root'),
      '--runroot',
      path.join(dir, 'run'),
      '--tmpdir',
      path.join(dir, 'libpod'),
      '--storage-driver',
      'overlay',
      '--events-backend',
      'none',
      '--cgroup-manager',
      'cgroupfs',
      '--runtime',
      'runc',
      ...args,
    ],
    env: { ...process.env, TMPDIR: path.join(dir, 'tmp') },
  };
}

// As root, podman raises the container's RLIMIT_NOFILE and RLIMIT_NPROC above the hard limits it
// has here (no CAP_SYS_RESOURCE, see docs/conmon.md §12; `--ulimit host` too), and runc then fails
// ("error setting rlimit type 7/6"). So: nofile as containerd's default spec (1024:1024), nproc
// podman's documented default (32768; 65536 already failed here).
export const PODMAN_RUN_LIMITS: readonly string[] = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=32768:32768'];

export async function setupPodman(dir: string, image: BenchImage): Promise<ContainerRuntime> {
  const tmp = path.join(dir, 'tmp');
  await fs.promises.mkdir(tmp, { recursive: true });
  const { args: podman, env } = podmanCli(dir);
  const runOpts = ['--network', 'none', ...PODMAN_RUN_LIMITS];
  const ps = async (all: boolean) => {
    const { ms, stdout } = await timedOutput('podman', podman(['ps', ...(all ? ['-a'] : []), '--format', '{{.Names}}']), { env });
    return { ms, names: stdout.split('\n').filter(Boolean) };
  };
  cleanup.defer(async () => {
    // podman keeps its state on disk: it can remove everything without a daemon. Then the raw net.
    // Not ps(): a timed command refuses to start once the run is interrupted, and this runs on Ctrl-C too.
    const left = await runCommand('podman', podman(['ps', '-a', '-q']), { env, timeout: 60_000 }).then(
      (r) => r.stdout.split('\n').filter(Boolean).length,
      () => 0,
    );
    if (left) await runCommand('podman', podman(['rm', '-f', '-t', '0', '--all']), { env, timeout: 120_000 }).catch(() => undefined);
    const found = await forceCleanupRunc(await podmanRuncRoot(dir), 'conmon', dir);
    noteLeftovers('podman', { containers: Math.max(left, found.containers), monitors: found.monitors });
  });
  await runCommand('podman', podman(['images', '-q']), { env, timeout: 60_000 }); // storage set up, untimed
  await runCommand('podman', podman(['pull', '-q', '--tls-verify=false', image.ref]), { env, timeout: 120_000 });
  return {
    tool: 'podman',
    runRm: [
      {
        row: 'podman',
        run: async () => ({ ms: await timed('podman', podman(['run', '--rm', ...runOpts, image.ref, '/bin/true']), { env }) }),
      },
    ],
    startSleep: (name) => timed('podman', podman(['run', '-d', ...runOpts, '--name', name, image.ref, 'sleep', '300']), { env }),
    runningNames: async () => (await ps(false)).names,
    allNames: async () => (await ps(true)).names,
    listers: [
      {
        label: 'podman ps',
        run: async () => {
          const { ms, stdout } = await timedOutput('podman', podman(['ps']), { env });
          return { ms, running: tableRows(stdout).length };
        },
      },
    ],
    // -t 0: SIGKILL at once (`rm -f` otherwise sends SIGTERM and waits 10 s, which a `sleep` as PID 1 ignores).
    removeAll: (names) => timed('podman', podman(['rm', '-f', '-t', '0', ...names]), { env }),
    processes: async () => ({ daemon: [], monitors: matching(await listProcesses(), 'conmon', dir).map((p) => p.pid) }),
    forceCleanup: async () => noteLeftovers('podman', await forceCleanupRunc(await podmanRuncRoot(dir), 'conmon', dir)),
  };
}

/**
 * The runc --root podman's conmons pass on (`--runtime-arg --root=…`), read
 * off a running one; else podman's default as root, /run/runc — shared with
 * anything else that uses runc's default, so the safety net only touches
 * containers whose bundle is in the run's dir. (conmon's argv also holds
 * `--exit-command-arg --root <storage root>`: not the runc root.)
 */
async function podmanRuncRoot(dir: string): Promise<string> {
  for (const p of matching(await listProcesses(), 'conmon', dir)) {
    for (let i = 0; i + 1 < p.argv.length; i++) {
      if (p.argv[i] === '--runtime-arg' && p.argv[i + 1].startsWith('--root=')) return p.argv[i + 1].slice('--root='.length);
    }
  }
  return '/run/runc';
}

export async function setupRunc(dir: string, image: BenchImage): Promise<ContainerRuntime> {
  const root = path.join(dir, 'root');
  const log = path.join(dir, 'runc.log');
  // runc puts a container without linux.cgroupsPath in /<id> of each hierarchy: IDs carry the run's
  // work dir name, so the safety net knows which of those are this run's.
  const tag = `${path.basename(path.dirname(dir))}-`;
  const idOf = (name: string) => tag + name;
  cleanup.defer(async () => {
    await killDetachedChildren();
    noteLeftovers('runc', await forceCleanupRunc(root, undefined, dir));
    // A `runc run -d` killed mid-way made its cgroups but no state for `runc delete` to find.
    const hierarchy = '/sys/fs/cgroup/memory';
    const cut = (await fs.promises.readdir(hierarchy).catch(() => [] as string[])).filter((d) => d.startsWith(tag));
    await removeEmptyCgroups('', cut);
  });
  // The image's rootfs, unpacked once: the floor pays for no snapshot or mount per container.
  const layout = path.join(dir, 'oci');
  await runCommand('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${image.ref}`, `oci:${layout}:${image.tag}`], {
    timeout: 120_000,
  });
  const unpacked = path.join(dir, 'image');
  await runCommand('umoci', ['unpack', '--image', `${layout}:${image.tag}`, unpacked], { timeout: 120_000 });
  const rootfs = path.join(unpacked, 'rootfs');
  const trueBundle = await runcBundle(path.join(dir, 'true'), rootfs, ['/bin/true']);
  const sleepBundle = await runcBundle(path.join(dir, 'sleep'), rootfs, ['sleep', '300']);
  const runc = (args: string[]) => ['--root', root, ...args];
  const names = async (status?: string) =>
    (await runcList(root)).filter((c) => !status || c.status === status).map((c) => c.id.slice(tag.length));
  return {
    tool: 'runc',
    // `runc run` (not -d) waits for the container and deletes it when it exits.
    runRm: [{ row: 'runc', run: async (seq) => ({ ms: await timed('runc', runc(['run', '--bundle', trueBundle, idOf(`rm-${seq}`)])) }) }],
    startSleep: (name) => timedDetached('runc', runc(['run', '-d', '--bundle', sleepBundle, idOf(name)]), log),
    runningNames: () => names('running'),
    allNames: () => names(),
    listers: [
      {
        label: 'runc list',
        run: async () => {
          const { ms, stdout } = await timedOutput('runc', runc(['list']));
          return { ms, running: tableRows(stdout).filter((l) => /\srunning\s/.test(l)).length };
        },
      },
    ],
    // Not `runc delete -f` each: for a running container it sends SIGKILL and then polls for the
    // exit in 100 ms sleeps (~120 ms a container here). SIGKILL to all first, then delete each.
    removeAll: async (names) => {
      let ms = 0;
      for (const name of names) ms += await timed('runc', runc(['kill', idOf(name), 'KILL']));
      for (const name of names) {
        try {
          ms += await timed('runc', runc(['delete', idOf(name)]));
        } catch {
          ms += await timed('runc', runc(['delete', '-f', idOf(name)])); // not stopped yet
        }
      }
      return ms;
    },
    processes: async () => ({ daemon: [], monitors: [] }),
    forceCleanup: async () => noteLeftovers('runc', await forceCleanupRunc(root, undefined, dir)),
  };
}

/** A bundle from `runc spec` (no terminal, writable root like the others' overlays, runc's default namespaces). */
async function runcBundle(bundle: string, rootfs: string, args: string[]): Promise<string> {
  await fs.promises.mkdir(bundle, { recursive: true });
  await runCommand('runc', ['spec', '--bundle', bundle]);
  const file = path.join(bundle, 'config.json');
  const spec = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { root: unknown; process: { args: string[]; terminal: boolean } };
  spec.root = { path: rootfs, readonly: false };
  spec.process.args = args;
  spec.process.terminal = false;
  await fs.promises.writeFile(file, JSON.stringify(spec, null, 2));
  return bundle;
}
