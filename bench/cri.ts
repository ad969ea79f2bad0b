// CRI benchmark (issue 14, "Benchmarks"): gantryd's CRI socket against
// containerd 1.6's CRI plugin (Debian's containerd) on the same machine, in
// one run, the order rotated per iteration, both driven by the same grpc-js
// client as a kubelet drives them (bench/lib/criTargets.ts):
//
//   1. one pod: RunPodSandbox + CreateContainer + StartContainer of a busybox
//      `sleep 3600`, timed from the first call to the last reply; the pod is
//      stopped and removed after the clock;
//   2. --pods pods of --containers containers each, all calls one after the
//      other (pod after pod; inside a pod, sandbox then each container, as a
//      kubelet's pod worker does for one pod): the time until all run, then
//      PSS of the runtime with them running — gantryd + its conmons + the
//      catatonit infra processes against containerd + its shims + the pause
//      processes — and then every pod is removed.
//
// Goals: time ≤ 0.75 × containerd, memory ≤ 0.5 × containerd.
// docs/testing.md, "Benchmarks, not timed tests"; usage in bench/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { pushBusybox } from '../test/helpers/fixtures';
import { cgroupParentsCreatedHere } from './lib/containerRuntime';
import {
  checkRunning,
  CRI_TARGETS,
  criMemory,
  podConfig,
  removePod,
  runPod,
  SECCOMP_CHOICES,
  setupContainerd,
  setupGantry,
  type CriMemory,
  type CriTarget,
  type CriTargetId,
  type SeccompChoice,
} from './lib/criTargets';
import { snapshotDist } from './lib/daemons';
import { cleanup, openBenchSession, requireBinaries, runMain } from './lib/harness';
import { intOption } from './lib/options';
import { loadavg, machineInfo, REPO, stats, table, toolVersions, type Stats } from './lib/report';
import { paired, rotated, timeTable } from './lib/rotatedRuns';

const USAGE = `Usage: node out/bench/cri.js [--runs N] [--warmup N] [--many-runs N] [--pods N] [--containers N] [--seccomp P] [--settle-ms MS] [--out FILE]

  --runs N        measured iterations of the one-pod row (default 10)
  --warmup N      unmeasured iterations of it first (default 1)
  --many-runs N   iterations of the many-pods row (default 1; each starts and removes all pods)
  --pods N        pods in the many-pods row (default 20)
  --containers N  containers per pod in the many-pods row (default 2)
  --seccomp P     the pods' and containers' seccomp profile: runtime-default (default), unconfined, or unset
  --settle-ms MS  wait after the last start before reading memory, as bench/containers.ts (default 2000)
  --out FILE      JSON report (default test-output/bench/cri.json)
`;

const TIME_GOAL = 0.75;
const MEMORY_GOAL = 0.5;

interface ManySample {
  ms: number;
  memory: CriMemory;
}

const mib = (kib: number) => (kib / 1024).toFixed(1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      'many-runs': { type: 'string', default: '1' },
      'settle-ms': { type: 'string', default: '2000' },
      pods: { type: 'string', default: '20' },
      containers: { type: 'string', default: '2' },
      seccomp: { type: 'string', default: 'runtime-default' },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/cri.json') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const runs = intOption('runs', values.runs, 1);
  const warmup = intOption('warmup', values.warmup, 0);
  const manyRuns = intOption('many-runs', values['many-runs'], 1);
  const settleMs = intOption('settle-ms', values['settle-ms'], 0);
  const pods = intOption('pods', values.pods, 1);
  const containers = intOption('containers', values.containers, 1);
  const seccomp = values.seccomp as SeccompChoice;
  if (!SECCOMP_CHOICES.includes(seccomp)) throw new Error(`--seccomp: one of ${SECCOMP_CHOICES.join(', ')}, not ${values.seccomp}`);
  requireBinaries(['runc', 'conmon', 'containerd', 'ctr', 'catatonit', 'umoci', 'skopeo']);
  if (!fs.existsSync('/usr/lib/cni/bridge'))
    throw new Error("Debian's CNI plugins (/usr/lib/cni, package containernetworking-plugins) are needed");
  const session = await openBenchSession('cri', 'gbc', { images: ['busybox'], tools: [...CRI_TARGETS], warmup, runs });
  const { log, work, registry } = session;
  cleanup.defer(cgroupParentsCreatedHere(['gantry', 'default', 'k8s.io']));

  const busybox = await pushBusybox(registry, 'bench/busybox:v1');
  // containerd's sandbox image: Debian's static catatonit in pause mode, as gantryd's own infra runs it.
  const pause = await pushBusybox(registry, 'bench/pause:v1', {
    image: { copies: { '/pause': { source: '/usr/bin/catatonit', mode: 0o755 } }, entrypoint: ['/pause', '-P'], cmd: [] },
  });
  const dist = await snapshotDist(path.join(work, 'dist'));
  const logRoot = path.join(work, 'pod-logs');
  const targets: Record<CriTargetId, CriTarget> = {
    gantry: await setupGantry(work, dist.gantryJs, busybox.ref),
    containerd: await setupContainerd(work, registry.host, pause.ref, busybox.ref),
  };
  log(`both runtimes up; ${busybox.ref} pulled by each (${targets.gantry.image} / ${targets.containerd.image})`);

  // 1. One pod: sandbox + one container, timed; teardown after the clock.
  log(`one pod (RunPodSandbox + CreateContainer + StartContainer): ${warmup} warm-up + ${runs}; seccomp ${seccomp}`);
  const one = await rotated(
    CRI_TARGETS.map((id) => ({
      label: id,
      run: async () => {
        const t = targets[id];
        const config = podConfig(logRoot, `one-${id}`, seccomp);
        const t0 = performance.now();
        const pod = await runPod(t, config, 1, seccomp);
        const ms = performance.now() - t0;
        await checkRunning(t, 1, 1);
        await removePod(t, pod);
        return { ms };
      },
    })),
    warmup,
    runs,
    log,
    (r) => `${r.ms.toFixed(0)} ms`,
  );

  // 2. Many pods: all started one call after the other, memory with all running, then removed.
  log(`${pods} pods × ${containers} containers: ${manyRuns} iteration(s)`);
  const many = await rotated(
    CRI_TARGETS.map((id) => ({
      label: id,
      run: async (): Promise<ManySample> => {
        const t = targets[id];
        const ids: string[] = [];
        const t0 = performance.now();
        for (let i = 0; i < pods; i++) ids.push(await runPod(t, podConfig(logRoot, `many-${id}-${i}`, seccomp), containers, seccomp));
        const ms = performance.now() - t0;
        await checkRunning(t, pods, pods * containers);
        // Untimed: what stays resident once the burst is over, not the garbage of its last calls.
        await new Promise((r) => setTimeout(r, settleMs));
        const memory = await criMemory(t, ids);
        for (const p of ids) await removePod(t, p);
        await checkRunning(t, 0, 0);
        return { ms, memory };
      },
    })),
    0,
    manyRuns,
    log,
    (r) => `${(r.ms / 1000).toFixed(2)} s, PSS ${mib(r.memory.allPssKiB)} MiB`,
  );

  // Report.
  const oneStats: Record<string, Stats> = Object.fromEntries(
    CRI_TARGETS.map((id) => [
      id,
      stats(
        one.samples[id].map((r) => r.ms),
        0,
      ),
    ]),
  );
  const manyStats: Record<string, Stats> = Object.fromEntries(
    CRI_TARGETS.map((id) => [
      id,
      stats(
        many.samples[id].map((r) => r.ms),
        0,
      ),
    ]),
  );
  const pssStats = Object.fromEntries(
    CRI_TARGETS.map((id) => {
      const s = many.samples[id].map((r) => r.memory);
      const med = (f: (m: CriMemory) => number) => stats(s.map(f), 0).medianMs;
      return [
        id,
        {
          daemonPssKiB: med((m) => m.daemonPssKiB),
          monitorsPssKiB: med((m) => m.monitorsPssKiB),
          monitors: med((m) => m.monitors.length),
          infraPssKiB: med((m) => m.infraPssKiB),
          allPssKiB: med((m) => m.allPssKiB),
        },
      ];
    }),
  ) as Record<CriTargetId, { daemonPssKiB: number; monitorsPssKiB: number; monitors: number; infraPssKiB: number; allPssKiB: number }>;
  const ratio = (s: Record<string, Stats>) => s.gantry.medianMs / s.containerd.medianMs;
  const ratios = {
    onePod: ratio(oneStats),
    onePodPaired: paired(one.iterations, 'gantry', 'containerd'),
    manyPods: ratio(manyStats),
    manyPodsPaired: paired(many.iterations, 'gantry', 'containerd'),
    memory: pssStats.gantry.allPssKiB / pssStats.containerd.allPssKiB,
  };
  const out = process.stdout;
  out.write(`\n1. one pod: RunPodSandbox + CreateContainer + StartContainer (${runs} runs)\n`);
  out.write(timeTable(oneStats, () => '', ['containerd']) + '\n');
  out.write(`\n2. ${pods} pods × ${containers} containers, one call after the other (${manyRuns} run(s))\n`);
  out.write(timeTable(manyStats, (st) => `${((pods * 1000) / st.medianMs).toFixed(1)} pods/s`, ['containerd']) + '\n');
  const memRows = [['runtime', '', 'daemon', 'monitors', '(count)', 'infra', 'total PSS', '÷ containerd']];
  for (const id of CRI_TARGETS) {
    const m = pssStats[id];
    memRows.push([
      id,
      '',
      `${mib(m.daemonPssKiB)} MiB`,
      `${mib(m.monitorsPssKiB)} MiB`,
      String(m.monitors),
      `${mib(m.infraPssKiB)} MiB`,
      `${mib(m.allPssKiB)} MiB`,
      (m.allPssKiB / pssStats.containerd.allPssKiB).toFixed(2),
    ]);
  }
  out.write(`\nPSS with ${pods * containers} containers in ${pods} pods running\n${table(memRows)}\n`);
  const met = (r: number, goal: number) => `${r.toFixed(2)} (goal ≤ ${goal}: ${r <= goal ? 'met' : 'NOT met'})`;
  out.write(
    `\ngantry ÷ containerd: one pod ${met(ratios.onePod, TIME_GOAL)}, paired ${ratios.onePodPaired?.median.toFixed(2)}; ` +
      `${pods} pods ${met(ratios.manyPods, TIME_GOAL)}, paired ${ratios.manyPodsPaired?.median.toFixed(2)}; memory ${met(ratios.memory, MEMORY_GOAL)}\n`,
  );
  const loadAtEnd = loadavg();
  log(
    `load average: start ${session.loadAtStart.join(' ')}, end ${loadAtEnd.join(' ')}${session.distChangedSinceStart() ? '; note: dist/ changed during the run (the run used its own build)' : ''}`,
  );
  fs.mkdirSync(path.dirname(values.out), { recursive: true });
  fs.writeFileSync(
    values.out,
    JSON.stringify(
      {
        machine: machineInfo(session.loadAtStart),
        loadAtEnd,
        versions: toolVersions({
          containerd: ['containerd', ['--version']],
          runc: ['runc', ['--version']],
          conmon: ['conmon', ['--version']],
        }),
        builtAt: dist.builtAt,
        options: { runs, warmup, manyRuns, pods, containers, seccomp },
        onePod: { stats: oneStats, iterations: one.iterations },
        manyPods: { stats: manyStats, iterations: many.iterations, memory: pssStats },
        ratios,
        goals: { time: TIME_GOAL, memory: MEMORY_GOAL },
      },
      (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v),
      2,
    ),
  );
  log(`report: ${values.out}`);
}

runMain('cri', main);
