// Containers benchmark: running containers with gantry vs containerd (ctr),
// podman and bare runc, in one run, same busybox image from the same loopback
// registry, everything rootful on this host:
//
//   1. `run --rm IMAGE /bin/true`, N times (rotated tool order, warm-ups not
//      counted): gantry's CLI end to end, gantry's API from a client connected
//      before the clock, `ctr run --rm`, `podman run --rm`, `runc run` (floor)
//   2. per tool, one pass: start `count` detached `sleep 300` containers one
//      after the other; memory with them all running (PSS of the daemon plus
//      its per-container monitors); list them (N times); force-remove them all
//
// Goals (the issue): gantry CLI run --rm ≤ 1.0 × ctr run --rm; warm API ≤ 0.5 ×
// ctr run --rm; memory with 50 running ≤ 0.5 × containerd's. The tool drivers
// are in lib/gantryRuntimes.ts and lib/anchorRuntimes.ts; gantry runs from a
// copy of dist/ taken at start; every container, shim, conmon, mount and
// cgroup the run makes is removed at the end and on Ctrl-C.
// docs/testing.md, "Benchmarks, not timed tests". Usage: bench/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { setupCtr, setupPodman, setupRunc } from './lib/anchorRuntimes';
import { cgroupParentsCreatedHere, TOOL_IDS, type ContainerRuntime, type RunRmRowId, type ToolId } from './lib/containerRuntime';
import { prepareImage, type BenchImage } from './lib/fixtures';
import { setupGantry } from './lib/gantryRuntimes';
import { checkInterrupted, cleanup, openBenchSession, requireBinaries, runMain } from './lib/harness';
import { intOption, rotation } from './lib/options';
import { runtimeMemory, type RuntimeMemory } from './lib/procmem';
import { GANTRY_JS, loadavg, REPO } from './lib/report';
import { snapshotDist } from './lib/daemons';
import { writeContainersReport, type BatchResult, type RunRmSample } from './lib/containersReport';

export interface Options {
  runs: number;
  warmup: number;
  count: number;
  listRuns: number;
  tools: ToolId[];
  out: string;
  gantrydArgs: string[];
  settleMs: number;
  /** gantryd under --cpu-prof: test-output/bench/profiles/containers-gantryd.cpuprofile when it exits. */
  profile: boolean;
}

const USAGE = `Usage: node out/bench/containers.js [options]

  --runs N            measured run --rm per tool (default 10)
  --warmup N          unmeasured run --rm per tool first (default 1)
  --count N           detached sleep containers per tool (default 50)
  --list-runs N       timed listings per lister (default: --runs)
  --tools LIST        comma-separated, from ${TOOL_IDS.join(',')} (default all)
  --settle-ms MS      wait after the last start before reading memory (default 2000)
  --out FILE          JSON report (default test-output/bench/containers.json)
  --gantryd-arg ARG   extra gantryd argument (repeatable)
  --profile           run gantryd under --cpu-prof (written to test-output/bench/profiles/ when the
                      run ends; summarise with out/bench/profile-summary.js)
`;

function options(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      count: { type: 'string', default: '50' },
      'list-runs': { type: 'string' },
      tools: { type: 'string', default: TOOL_IDS.join(',') },
      'settle-ms': { type: 'string', default: '2000' },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/containers.json') },
      'gantryd-arg': { type: 'string', multiple: true, default: [] },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const tools = values.tools
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of tools) if (!TOOL_IDS.includes(t as ToolId)) throw new Error(`--tools: unknown "${t}" (one of ${TOOL_IDS.join(', ')})`);
  const runs = intOption('runs', values.runs, 1);
  return {
    runs,
    warmup: intOption('warmup', values.warmup, 0),
    count: intOption('count', values.count, 1),
    listRuns: values['list-runs'] === undefined ? runs : intOption('list-runs', values['list-runs'], 1),
    tools: TOOL_IDS.filter((t) => tools.includes(t)),
    out: path.resolve(values.out),
    gantrydArgs: values['gantryd-arg'],
    settleMs: intOption('settle-ms', values['settle-ms'], 0),
    profile: values.profile,
  };
}

async function setUp(tools: readonly ToolId[], work: string, image: BenchImage, opts: Options, gantryJs: string, log: (s: string) => void) {
  const runtimes: ContainerRuntime[] = [];
  const dir = async (name: string) => {
    const d = path.join(work, name);
    await fs.promises.mkdir(d);
    return d;
  };
  if (tools.includes('gantry') || tools.includes('gantry-api')) {
    const t0 = performance.now();
    const profile = opts.profile ? { dir: path.join(path.dirname(opts.out), 'profiles'), name: 'containers-gantryd' } : undefined;
    const g = await setupGantry(await dir('gantry'), image, { gantryJs, args: opts.gantrydArgs, profile });
    if (tools.includes('gantry')) runtimes.push(g.cli);
    if (tools.includes('gantry-api')) runtimes.push(g.api);
    log(`gantryd ready, image pulled (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  for (const [tool, setup, name] of [
    ['ctr', setupCtr, 'containerd'],
    ['podman', setupPodman, 'podman'],
    ['runc', setupRunc, 'runc'],
  ] as const) {
    if (!tools.includes(tool)) continue;
    checkInterrupted();
    const t0 = performance.now();
    runtimes.push(await setup(await dir(name), image));
    log(`${tool} ready (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return runtimes;
}

/** Phase 1: run --rm /bin/true, tool order rotated per iteration. */
async function runRmPhase(runtimes: ContainerRuntime[], opts: Options, log: (s: string) => void): Promise<RunRmSample[]> {
  const samples: RunRmSample[] = [];
  let seq = 0;
  for (let it = -opts.warmup; it < opts.runs; it++) {
    const line: string[] = [];
    for (const rt of rotation(runtimes, it)) {
      for (const r of rt.runRm) {
        checkInterrupted();
        const { ms, parts } = await r.run(seq++);
        samples.push({ row: r.row, iteration: it, warmup: it < 0, ms, ...(parts ? { parts } : {}) });
        line.push(`${r.row} ${ms.toFixed(0)}`);
      }
    }
    log(`  run --rm ${it < 0 ? 'warm-up' : `${it + 1}/${opts.runs}`} (load ${loadavg()[0]}), ms: ${line.join(', ')}`);
  }
  for (const rt of runtimes) {
    const left = await rt.allNames();
    if (left.length) throw new Error(`${rt.tool}: run --rm left ${left.length} container(s) behind: ${left.slice(0, 5).join(', ')}`);
  }
  return samples;
}

async function memoryOf(rt: ContainerRuntime): Promise<RuntimeMemory> {
  const { daemon, monitors } = await rt.processes();
  return runtimeMemory(daemon, monitors);
}

/** Phase 2 for one tool: start `count` sleeps, memory, list, remove. */
async function batch(rt: ContainerRuntime, opts: Options, log: (s: string) => void): Promise<BatchResult> {
  const idle = await memoryOf(rt);
  const names = Array.from({ length: opts.count }, (_, i) => `s-${rt.tool}-${i}`);
  const startMs: number[] = [];
  const t0 = performance.now();
  for (const name of names) {
    checkInterrupted();
    startMs.push(await rt.startSleep(name));
  }
  const startTotalMs = performance.now() - t0;
  const running = new Set(await rt.runningNames());
  const missing = names.filter((n) => !running.has(n));
  if (missing.length)
    throw new Error(`${rt.tool}: ${missing.length} of ${opts.count} containers not running after start: ${missing.slice(0, 5).join(', ')}`);

  await new Promise((r) => setTimeout(r, opts.settleMs));
  const loaded = await memoryOf(rt);
  const monitorsExpected = rt.tool === 'runc' ? 0 : opts.count;
  if (loaded.monitors.length !== monitorsExpected) {
    log(
      `  note: ${rt.tool}: ${loaded.monitors.length} monitor processes found with ${opts.count} containers running (expected ${monitorsExpected})`,
    );
  }

  const lists: BatchResult['lists'] = [];
  for (const lister of rt.listers) {
    const ms: number[] = [];
    for (let i = -1; i < opts.listRuns; i++) {
      const r = await lister.run();
      if (r.running !== opts.count) throw new Error(`${lister.label} showed ${r.running} running containers; expected ${opts.count}`);
      if (i >= 0) ms.push(r.ms);
    }
    lists.push({ label: lister.label, ms });
  }

  const removeMs = await rt.removeAll(names);
  const left = await rt.allNames();
  if (left.length) throw new Error(`${rt.tool}: ${left.length} container(s) left after removing all: ${left.slice(0, 5).join(', ')}`);
  const result: BatchResult = {
    tool: rt.tool,
    count: opts.count,
    startTotalMs,
    startMs,
    lists,
    removeMs,
    memoryIdle: idle,
    memory: loaded,
  };
  const mib = (k: number) => (k / 1024).toFixed(1);
  log(
    `  ${rt.tool}: started ${opts.count} in ${(startTotalMs / 1000).toFixed(2)} s; PSS ${mib(loaded.totalPssKiB)} MiB ` +
      `(daemon ${mib(loaded.daemonPssKiB)}, ${loaded.monitors.length} monitors ${mib(loaded.monitorsPssKiB)}); ` +
      lists.map((l) => `${l.label} ${Math.min(...l.ms).toFixed(0)}+ ms`).join(', ') +
      `; removed in ${(removeMs / 1000).toFixed(2)} s`,
  );
  return result;
}

async function main(): Promise<void> {
  const opts = options();
  if (!fs.existsSync(GANTRY_JS)) throw new Error(`${GANTRY_JS} is missing; build first: node esbuild.js`);
  if (process.getuid?.() !== 0) throw new Error('run as root: containers need it (and so do the overlay snapshotters)');
  const needs = new Set(['docker-registry', 'skopeo', 'umoci', 'runc']);
  if (opts.tools.some((t) => t.startsWith('gantry'))) needs.add('conmon');
  if (opts.tools.includes('ctr')) ['containerd', 'ctr', 'containerd-shim-runc-v2'].forEach((b) => needs.add(b));
  if (opts.tools.includes('podman')) ['podman', 'conmon'].forEach((b) => needs.add(b));
  requireBinaries([...needs]);

  const session = await openBenchSession('containers', 'gcont', {
    images: ['small'],
    tools: opts.tools,
    warmup: opts.warmup,
    runs: opts.runs,
  });
  const { work, log, registry } = session;
  // Before any runtime starts; runs after their safety nets (the cleanup stack is LIFO).
  cleanup.defer(cgroupParentsCreatedHere(['gantry', 'default', 'libpod_parent/conmon', 'libpod_parent']));
  const image = await prepareImage('small', registry, work);
  log(`image ${image.ref} (busybox fixture, ${image.layers.length} layer, ${image.bytes} bytes)`);
  const profileDir = path.join(path.dirname(opts.out), 'profiles');
  const dist = await snapshotDist(opts.profile ? path.join(profileDir, 'containers-dist') : path.join(work, 'dist'));
  log(`gantry: a copy of dist/ built ${dist.builtAt}, in ${path.dirname(dist.gantryJs)}`);
  const runtimes = await setUp(opts.tools, work, image, opts, dist.gantryJs, log);

  log(`run --rm ${image.ref} /bin/true: ${opts.warmup} warm-up + ${opts.runs} runs per tool`);
  const runRm = await runRmPhase(runtimes, opts, log);

  log(`${opts.count} detached sleep 300 per tool: start, memory, list (${opts.listRuns}×), remove`);
  const batches: BatchResult[] = [];
  for (const rt of runtimes) batches.push(await batch(rt, opts, log));

  await writeContainersReport({
    opts,
    image,
    runRm,
    rows: runtimes.flatMap<RunRmRowId>((rt) => rt.runRm.map((r) => r.row)),
    batches,
    loadAtStart: session.loadAtStart,
    gantryBuiltAt: dist.builtAt,
  });
}

runMain('containers', main);
