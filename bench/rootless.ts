// Rootless benchmark (issue 15, "Benchmarks"): rootless gantry against
// rootful gantry and against rootless podman (the same unprivileged user) on
// the same machine, in one run, rotated order:
//
//   1. pull: `pull REF` of `bigfiles` (25,000 files, 10 layers) from the run's
//      loopback registry into a fresh store per iteration, CLI end to end
//   2. run: `run --rm --network none IMAGE /bin/true` (busybox), CLI end to end
//   3. memory: PSS of the runtime with `--count` (50) detached `sleep`s running:
//      gantryd (+ RootlessKit and the namespace holder when rootless) and its
//      conmons; podman has no daemon: its conmons (+ its pause process rootless)
//
// Targets (lib/rootlessTargets.ts): gantry, gantry-rootless, podman-rootless,
// podman (rootful, for reference). The user is made like the rootless tests'
// (test/integration/rootless/testUser.ts: its own subuid/subgid range, HOME
// and XDG_RUNTIME_DIR) and removed at the end with its processes and files.
// Goal: rootless gantry ≤ 1.0 × rootless podman on each. docs/testing.md,
// "Benchmarks, not timed tests". Usage: bench/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from '../test/helpers/proc';
import { createTestUser, missingTools, removeTestUser } from '../test/integration/rootless/testUser';
import { setupPodman } from './lib/anchorRuntimes';
import { cgroupParentsCreatedHere } from './lib/containerRuntime';
import { snapshotDist } from './lib/daemons';
import { prepareImage } from './lib/fixtures';
import { setupGantry } from './lib/gantryRuntimes';
import { checkInterrupted, cleanup, openBenchSession, requireBinaries, runMain, settleDisk } from './lib/harness';
import { intOption } from './lib/options';
import type { RuntimeMemory } from './lib/procmem';
import { loadavg, machineInfo, REPO, stats, table, toolVersions, type Stats } from './lib/report';
import { paired, rotated, timeTable } from './lib/rotatedRuns';
import {
  gantryPull,
  gantryRun,
  podmanPull,
  podmanRun,
  rootlessGantryPull,
  rootlessGantryRun,
  rootlessPodmanPull,
  rootlessPodmanRun,
  TARGET_IDS,
  type RunTarget,
  type TargetId,
} from './lib/rootlessTargets';

const PHASES = ['pull', 'run', 'memory'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `Usage: node out/bench/rootless.js [options]   (as root)

  --pull-runs N     pulls of bigfiles per target, each into a fresh store (default 3)
  --runs N          measured run --rm per target (default 10)
  --warmup N        unmeasured run --rm per target first (default 1)
  --count N         detached sleep containers per target for the memory row (default 50)
  --settle-ms MS    wait after the last start before reading memory (default 2000)
  --settle-disk S   before each pull, wait at most S seconds for file creation to settle (default 60)
  --phases LIST     from ${PHASES.join(',')} (default all)
  --targets LIST    from ${TARGET_IDS.join(',')} (default all)
  --out FILE        JSON report (default test-output/bench/rootless.json)
`;

function options() {
  const { values } = parseArgs({
    options: {
      'pull-runs': { type: 'string', default: '3' },
      runs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      count: { type: 'string', default: '50' },
      'settle-ms': { type: 'string', default: '2000' },
      'settle-disk': { type: 'string', default: '60' },
      phases: { type: 'string', default: PHASES.join(',') },
      targets: { type: 'string', default: TARGET_IDS.join(',') },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/rootless.json') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const list = <T extends string>(name: string, v: string, all: readonly T[]): T[] => {
    const got = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const g of got) if (!all.includes(g as T)) throw new Error(`--${name}: unknown "${g}" (one of ${all.join(', ')})`);
    return all.filter((a) => got.includes(a));
  };
  return {
    pullRuns: intOption('pull-runs', values['pull-runs'], 1),
    runs: intOption('runs', values.runs, 1),
    warmup: intOption('warmup', values.warmup, 0),
    count: intOption('count', values.count, 1),
    settleMs: intOption('settle-ms', values['settle-ms'], 0),
    settleDiskS: intOption('settle-disk', values['settle-disk'], 0),
    phases: list<Phase>('phases', values.phases, PHASES),
    targets: list<TargetId>('targets', values.targets, TARGET_IDS),
    out: path.resolve(values.out),
  };
}

type Ms = { ms: number };

/** Ratios the issue asks for, of medians and paired (per iteration). */
function ratios(st: Record<string, Stats>, iterations: Record<string, Ms>[]) {
  const of = (a: TargetId, b: TargetId) =>
    st[a] && st[b] ? { medians: st[a].medianMs / st[b].medianMs, paired: paired(iterations, a, b) } : undefined;
  return { rootlessVsPodmanRootless: of('gantry-rootless', 'podman-rootless'), rootlessVsRootful: of('gantry-rootless', 'gantry') };
}

function ratioLines(name: string, r: ReturnType<typeof ratios>): string[] {
  const fmt = (x: NonNullable<ReturnType<typeof ratios>['rootlessVsRootful']>) =>
    `${x.medians.toFixed(2)} (paired ${x.paired ? `${x.paired.median.toFixed(2)}, ${x.paired.min.toFixed(2)}–${x.paired.max.toFixed(2)}` : '-'})`;
  return [
    r.rootlessVsPodmanRootless ? `  ${name}: gantry rootless ÷ podman rootless = ${fmt(r.rootlessVsPodmanRootless)}` : '',
    r.rootlessVsRootful ? `  ${name}: gantry rootless ÷ gantry rootful = ${fmt(r.rootlessVsRootful)}` : '',
  ].filter(Boolean);
}

/** Starts `count` sleeps, reads the memory with them running, removes them all; the runtime must end empty. */
async function memoryBatch(t: RunTarget, count: number, settleMs: number, log: (s: string) => void) {
  const names = Array.from({ length: count }, (_, i) => `s-${t.label}-${i}`);
  const t0 = performance.now();
  for (const name of names) {
    checkInterrupted();
    await t.startSleep(name);
  }
  const startTotalMs = performance.now() - t0;
  const running = new Set(await t.runningNames());
  const missing = names.filter((n) => !running.has(n));
  if (missing.length)
    throw new Error(`${t.label}: ${missing.length} of ${count} not running after start: ${missing.slice(0, 5).join(', ')}`);
  await new Promise((r) => setTimeout(r, settleMs));
  const memory: RuntimeMemory = await t.memory();
  if (memory.monitors.length !== count) log(`  note: ${t.label}: ${memory.monitors.length} conmons found with ${count} containers running`);
  const removeMs = await t.removeAll(names);
  const left = await t.allNames();
  if (left.length) throw new Error(`${t.label}: ${left.length} container(s) left after removing all`);
  const mib = (k: number) => (k / 1024).toFixed(1);
  log(
    `  ${t.label}: started ${count} in ${(startTotalMs / 1000).toFixed(1)} s; PSS ${mib(memory.totalPssKiB)} MiB ` +
      `(daemon side ${mib(memory.daemonPssKiB)}: ${memory.daemon.map((p) => `${p.comm} ${mib(p.pssKiB)}`).join(', ') || '-'}; ` +
      `${memory.monitors.length} conmons ${mib(memory.monitorsPssKiB)}); removed in ${(removeMs / 1000).toFixed(1)} s`,
  );
  return { target: t.label, count, startTotalMs, removeMs, memory };
}

async function main(): Promise<void> {
  const opts = options();
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark creates a user and runs rootful runtimes beside it');
  const missingTool = missingTools();
  if (missingTool) throw new Error(missingTool);
  requireBinaries(['docker-registry', 'skopeo', 'umoci', 'runc', 'conmon', 'catatonit', 'setpriv', 'podman']);
  const session = await openBenchSession('rootless', 'grl', {
    images: opts.phases.includes('pull') ? ['small', 'bigfiles'] : ['small'],
    tools: opts.targets,
    warmup: opts.warmup,
    runs: opts.runs,
  });
  const { work, log, registry, workDir } = session;
  cleanup.defer(cgroupParentsCreatedHere(['gantry', 'libpod_parent/conmon', 'libpod_parent']));
  const user = await createTestUser();
  cleanup.defer(() => removeTestUser(user)); // after every runtime registered below (LIFO)
  // Its stores are placed like the work dir's run dirs (harness.ts makeWorkDir: ext4's "top of hierarchy" flag), or
  // the rootless rows would measure /tmp's slow block groups against the rootful rows' fresh ones.
  await runCommand('chattr', ['+T', user.home]).catch((e: unknown) =>
    log(`note: chattr +T ${user.home}: ${(e as Error).message.split('\n')[0]}`),
  );
  log(`user ${user.name} (uid ${user.uid}, subuids ${user.subStart}+65536, home ${user.home})`);
  // The bundle in the user's base dir (0755): the rootless daemon and CLI must read it too.
  const dist = await snapshotDist(path.join(user.base, 'dist'));
  const gantryJs = dist.gantryJs;
  log(`gantry: the production bundle built ${dist.builtAt}, in ${path.dirname(gantryJs)}`);
  const small = await prepareImage('small', registry, work);
  const report: Record<string, unknown> = {
    benchmark: 'rootless',
    options: opts,
    user: { name: user.name, uid: user.uid },
    machine: machineInfo(session.loadAtStart),
    versions: toolVersions({
      podman: ['podman', ['--version']],
      runc: ['runc', ['--version']],
      rootlesskit: ['rootlesskit', ['--version']],
    }),
  };
  const out: string[] = [];
  const timeRow = (name: string, samples: Record<string, Ms[]>, iterations: Record<string, Ms>[]) => {
    const st = Object.fromEntries(
      Object.entries(samples).map(([k, v]) => [
        k,
        stats(
          v.map((s) => s.ms),
          0,
        ),
      ]),
    );
    const r = ratios(st, iterations);
    out.push(
      `${name}:`,
      timeTable(st, () => '', ['podman-rootless', 'gantry']),
      ...ratioLines(name, r),
      '',
    );
    report[name] = { stats: st, iterations, ratios: r };
    return r;
  };
  const goals: Record<string, number | undefined> = {};

  if (opts.phases.includes('pull')) {
    const big = await prepareImage('bigfiles', registry, work);
    log(`pull: ${big.ref} (${big.layers.length} layers, ${big.bytes} bytes), ${opts.pullRuns} per target, fresh store each`);
    const all = [gantryPull(workDir, gantryJs), rootlessGantryPull(user, gantryJs), rootlessPodmanPull(user), podmanPull(workDir)];
    let seq = 0;
    // Before each pull, untimed: file creation must have settled from the last store's delete (bench/README.md, pull-unpack caveats).
    const pull = async (t: (typeof all)[number]) => {
      const disk = await settleDisk(work, { maxWaitMs: opts.settleDiskS * 1000, log });
      return { ms: await t.pull(big, seq++), diskUsPerFile: Math.max(...disk.usPerFile), diskSettled: disk.settled };
    };
    const targets = all.filter((t) => opts.targets.includes(t.label)).map((t) => ({ label: t.label, run: () => pull(t) }));
    const show = (r: { ms: number; diskUsPerFile: number; diskSettled: boolean }) =>
      `${r.ms.toFixed(0)} (disk ${r.diskUsPerFile.toFixed(0)} µs/file${r.diskSettled ? '' : ', not settled'})`;
    const { samples, iterations } = await rotated(targets, 0, opts.pullRuns, log, show);
    goals.pull = timeRow('pull bigfiles', samples, iterations).rootlessVsPodmanRootless?.medians;
  }

  const runTargets: RunTarget[] = [];
  if (opts.phases.includes('run') || opts.phases.includes('memory')) {
    const dir = async (name: string) => {
      const d = path.join(work, name);
      await fs.promises.mkdir(d);
      return d;
    };
    for (const id of opts.targets) {
      const t0 = performance.now();
      if (id === 'gantry') runTargets.push(gantryRun((await setupGantry(await dir('gantry'), small, { gantryJs })).cli));
      if (id === 'gantry-rootless') runTargets.push(await rootlessGantryRun(user, gantryJs, small));
      if (id === 'podman-rootless') runTargets.push(await rootlessPodmanRun(user, small));
      if (id === 'podman') runTargets.push(podmanRun(await setupPodman(await dir('podman'), small)));
      log(`${id} ready, ${small.ref} pulled (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  }

  if (opts.phases.includes('run')) {
    log(`run --rm --network none ${small.ref} /bin/true: ${opts.warmup} warm-up + ${opts.runs} per target`);
    const targets = runTargets.map((t) => ({ label: t.label, run: async () => ({ ms: await t.runRm() }) }));
    const { samples, iterations } = await rotated(targets, opts.warmup, opts.runs, log, (r) => r.ms.toFixed(0));
    for (const t of runTargets) {
      const left = await t.allNames();
      if (left.length) throw new Error(`${t.label}: run --rm left ${left.length} container(s) behind`);
    }
    goals.run = timeRow('run --rm', samples, iterations).rootlessVsPodmanRootless?.medians;
  }

  if (opts.phases.includes('memory')) {
    log(`memory: ${opts.count} detached sleep 300 per target`);
    const batches = [];
    for (const t of runTargets) batches.push(await memoryBatch(t, opts.count, opts.settleMs, log));
    const mib = (k: number) => `${(k / 1024).toFixed(1)} MiB`;
    const byId = Object.fromEntries(batches.map((b) => [b.target, b.memory.totalPssKiB]));
    const rows = [['target', '', 'PSS total', 'daemon side', 'conmons', 'per conmon', '÷ podman-rootless', '÷ gantry']];
    for (const b of batches) {
      const m = b.memory;
      const div = (a: string) => (byId[a] ? (m.totalPssKiB / byId[a]).toFixed(2) : '-');
      rows.push([
        b.target,
        '',
        mib(m.totalPssKiB),
        mib(m.daemonPssKiB),
        `${m.monitors.length}: ${mib(m.monitorsPssKiB)}`,
        m.monitors.length ? `${(m.monitorsPssKiB / m.monitors.length).toFixed(0)} KiB` : '-',
        div('podman-rootless'),
        div('gantry'),
      ]);
    }
    out.push(`memory with ${opts.count} running (PSS):`, table(rows), '');
    goals.memory = byId['gantry-rootless'] && byId['podman-rootless'] ? byId['gantry-rootless'] / byId['podman-rootless'] : undefined;
    report.memory = batches;
  }

  const goalLine = Object.entries(goals)
    .map(([k, v]) => `${k} ${v === undefined ? '-' : v.toFixed(2)}${v === undefined ? '' : v <= 1 ? ' (met)' : ' (not met)'}`)
    .join(', ');
  out.push(`goal (issue 15): gantry rootless ≤ 1.0 × podman rootless on each: ${goalLine}`);
  out.push(`load average at start ${session.loadAtStart.join(' ')}, at end ${loadavg().join(' ')}`);
  if (session.distChangedSinceStart()) out.push('note: dist/ was rebuilt during the run (the run measured its own copy, built at start)');
  process.stdout.write(out.join('\n') + '\n');
  report.goals = goals;
  report.loadAtEnd = loadavg();
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(report, null, 2));
  log(`JSON: ${opts.out}`);
}

runMain('rootless', main);
