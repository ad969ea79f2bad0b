// gantry in the containers benchmark: one gantryd (fresh --root/--state in
// the run's dir, image pulled over the API before anything is timed) measured
// two ways:
//
//   gantry      the CLI, end to end (Node start-up included): `gantry run --rm`,
//               `run -d`, `ps`, `rm -f`
//   gantry-api  a RuntimeClient connected before the clock starts: the daemon's
//               own time. `run --rm` is measured as the CLI does it — Create
//               (auto-remove) + Attach with start: true, read until the exit
//               code, then Wait("removed") — and, as row gantry-api-wait, as
//               Create + Start + Wait("not-running") + Remove
//
// Every container here runs with --network none: ctr run attaches no network
// and podman's row uses --network none too, so the rows compare like with
// like (the default bridge's cost is bench/network.ts's).
//
// Memory counts gantryd (and anything it forked that still runs) plus every
// conmon whose argv names the run's dir (conmons leave gantryd's process tree
// when they daemonise). The safety net asks gantryd first and then goes to
// runc and conmon directly, since after Ctrl-C gantryd is already dead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerConfig } from '../../runtime/api/gen/gantry/v1/containers';
import { RuntimeClient } from '../../runtime/client/client';
import { isNotFound } from '../../runtime/errdefs/errdefs';
import {
  forceCleanupRunc,
  noteLeftovers,
  removeEmptyCgroups,
  tableRows,
  timedOutput,
  type ContainerRuntime,
  type RunRmResult,
} from './containerRuntime';
import { gantryApiPull, startGantryd, type Gantryd, type GantrydOptions } from './daemons';
import type { BenchImage } from './fixtures';
import { checkInterrupted, cleanup, timed } from './harness';
import { daemonAndMonitors } from './procmem';

export interface GantrySetup {
  cli: ContainerRuntime;
  api: ContainerRuntime;
  gantryd: Gantryd;
}

/** `gantryJs`: the bundle both the daemon and the CLI run (the run's copy of dist/gantry.js). */
export async function setupGantry(dir: string, image: BenchImage, opts: GantrydOptions & { gantryJs: string }): Promise<GantrySetup> {
  const gantryd = await startGantryd(dir, opts);
  const client = RuntimeClient.forSocket(gantryd.socket);
  const state = path.join(dir, 'state');
  const runcRoot = path.join(state, 'runc'); // containers/launcher.ts: <state>/runc
  // After the safety net below (LIFO); a graceful stop, so a --cpu-prof profile gets written.
  cleanup.defer(async () => {
    if (gantryd.proc.exitStatus) return; // already gone (Ctrl-C kills every process first)
    await gantryd.stop().catch((e: unknown) => process.stderr.write(`gantryd stop: ${(e as Error).message}\n`));
  });
  cleanup.defer(async () => {
    let left = 0;
    try {
      const all = await client.containers.list(true, [], { timeoutMs: 5_000 });
      left = all.length;
      for (const c of all) await client.containers.remove(c.id, true, { timeoutMs: 30_000 }).catch(() => undefined);
    } catch {
      // gantryd is gone (Ctrl-C): runc and conmon directly
    }
    client.close();
    const found = await forceCleanupRunc(runcRoot, 'conmon', dir);
    // Every container gantryd made has a record and a bundle dir; their cgroups are /gantry/<id> (launcher.ts).
    const ids = new Set<string>();
    for (const d of [path.join(dir, 'root', 'containers'), path.join(state, 'tasks')]) {
      for (const id of await fs.promises.readdir(d).catch(() => [] as string[])) ids.add(id);
    }
    await removeEmptyCgroups('gantry', [...ids]);
    noteLeftovers('gantryd', { containers: Math.max(left, found.containers), monitors: found.monitors });
  });
  await client.system.version(); // connected before any clock starts
  await gantryApiPull(client, image.ref, image.layers.length);

  const gantry = (args: string[]) => [opts.gantryJs, '--socket', gantryd.socket, ...args];
  const names = async (all: boolean) => (await client.containers.list(all)).map((c) => c.name.replace(/^\//, ''));
  const processes = () => daemonAndMonitors(gantryd.proc.pid, 'conmon', dir);
  const forceCleanup = async () => noteLeftovers('gantryd', await forceCleanupRunc(runcRoot, 'conmon', dir));
  const common = { runningNames: () => names(false), allNames: () => names(true), processes, forceCleanup };

  const cli: ContainerRuntime = {
    tool: 'gantry',
    ...common,
    runRm: [
      {
        row: 'gantry',
        run: async () => ({ ms: await timed(process.execPath, gantry(['run', '--rm', '--network', 'none', image.ref, '/bin/true'])) }),
      },
    ],
    startSleep: (name) => timed(process.execPath, gantry(['run', '-d', '--network', 'none', '--name', name, image.ref, 'sleep', '300'])),
    listers: [
      {
        label: 'gantry ps',
        run: async () => {
          const { ms, stdout } = await timedOutput(process.execPath, gantry(['ps']));
          return { ms, running: tableRows(stdout).length };
        },
      },
    ],
    removeAll: (names) => timed(process.execPath, gantry(['rm', '-f', ...names])),
  };

  const api: ContainerRuntime = {
    tool: 'gantry-api',
    ...common,
    runRm: [
      { row: 'gantry-api', run: () => apiRunAttached(client, image.ref, { network: 'none' }) },
      { row: 'gantry-api-wait', run: () => apiRunWait(client, image.ref) },
    ],
    startSleep: async (name) => {
      checkInterrupted();
      const t0 = performance.now();
      const c = await client.containers.create(name, { image: image.ref, cmd: ['sleep', '300'], network: 'none' });
      await client.containers.start(c.id);
      return performance.now() - t0;
    },
    listers: [
      {
        label: 'List RPC (running)',
        run: async () => {
          const t0 = performance.now();
          const list = await client.containers.list(false);
          return { ms: performance.now() - t0, running: list.length };
        },
      },
    ],
    removeAll: async (names) => {
      const t0 = performance.now();
      for (const name of names) await client.containers.remove(name, true);
      return performance.now() - t0;
    },
  };
  return { cli, api, gantryd };
}

/** Call durations, in order: `lap(name)` charges the time since the previous lap to `name`. */
function laps(): { lap(name: string): void; parts: Record<string, number>; total(): number } {
  const t0 = performance.now();
  let last = t0;
  const parts: Record<string, number> = {};
  return {
    parts,
    lap: (name) => {
      const now = performance.now();
      parts[name] = now - last;
      last = now;
    },
    total: () => last - t0,
  };
}

/**
 * What `gantry run --rm IMAGE /bin/true` does, over a connected client; until the container is gone.
 * `config`: more of the container's settings (e.g. `network: 'none'`).
 */
export async function apiRunAttached(client: RuntimeClient, ref: string, config: Partial<ContainerConfig> = {}): Promise<RunRmResult> {
  checkInterrupted();
  const t = laps();
  const c = await client.containers.create('', { ...config, image: ref, cmd: ['/bin/true'], autoRemove: true });
  t.lap('create');
  let code: number | undefined;
  for await (const m of client.containers.attach({ id: c.id, start: true }).responses()) {
    if (m.kind?.$case === 'exitCode') code = m.kind.value;
  }
  t.lap('attach+start to exit');
  await client.containers.wait(c.id, 'removed').catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });
  t.lap('wait removed');
  if (code !== 0) throw new Error(`gantry-api: /bin/true in ${c.id} ended with exit code ${code ?? '(none)'}`);
  return { ms: t.total(), parts: t.parts };
}

/** The unattached way: Create, Start, Wait until it stopped, Remove; until removed. */
async function apiRunWait(client: RuntimeClient, ref: string): Promise<RunRmResult> {
  checkInterrupted();
  const t = laps();
  const c = await client.containers.create('', { image: ref, cmd: ['/bin/true'], network: 'none' });
  t.lap('create');
  await client.containers.start(c.id);
  t.lap('start');
  const code = await client.containers.wait(c.id, 'not-running');
  t.lap('wait');
  await client.containers.remove(c.id);
  t.lap('remove');
  if (code !== 0) throw new Error(`gantry-api-wait: /bin/true in ${c.id} exited ${code}`);
  return { ms: t.total(), parts: t.parts };
}
