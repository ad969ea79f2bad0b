// The containers benchmark's report: three tables (run --rm; start/list/rm
// of the batch; memory with the batch running), each row divided by ctr /
// containerd (and podman, runc for run --rm), the three goals met or
// not, and the JSON with every sample in test-output/bench/containers.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Options } from '../containers';
import type { RunRmRowId, ToolId } from './containerRuntime';
import type { BenchImage } from './fixtures';
import type { RuntimeMemory } from './procmem';
import { loadavg, machineInfo, stats, table, toolVersions, type Stats } from './report';

export interface RunRmSample {
  row: RunRmRowId;
  iteration: number;
  warmup: boolean;
  ms: number;
  /** gantry-api rows: each call's time, ms. */
  parts?: Record<string, number>;
}

export interface BatchResult {
  tool: ToolId;
  count: number;
  /** First start to last started, sequential. */
  startTotalMs: number;
  startMs: number[];
  /** Per lister: the timed listings (warm-up left out). */
  lists: { label: string; ms: number[] }[];
  removeMs: number;
  /** Before the batch started. */
  memoryIdle: RuntimeMemory;
  /** With `count` containers running. */
  memory: RuntimeMemory;
}

export interface ReportInput {
  opts: Options;
  image: BenchImage;
  runRm: RunRmSample[];
  rows: RunRmRowId[];
  batches: BatchResult[];
  loadAtStart: number[];
  /** mtime of the dist/gantry.js the run copied and used. */
  gantryBuiltAt: string;
}

const RUN_RM_LABEL: Record<RunRmRowId, string> = {
  gantry: 'gantry run --rm (CLI, end to end)',
  'gantry-api': 'gantryd API: Create + Attach(start) + Wait(removed)',
  'gantry-api-wait': 'gantryd API: Create + Start + Wait + Remove',
  ctr: 'ctr run --rm (containerd 1.6)',
  podman: 'podman run --rm --network none',
  runc: 'floor: runc run (rootfs unpacked once)',
};

const MONITOR: Record<ToolId, string> = {
  gantry: 'gantryd + conmon',
  'gantry-api': 'gantryd + conmon',
  ctr: 'containerd + shim-runc-v2',
  podman: 'conmon (no daemon)',
  runc: 'none',
};

const RUN_RM_ANCHORS = ['ctr', 'podman', 'runc'] as const;

/** Issue 18's goals: row ÷ ctr ≤ max (medians). */
const GOALS = [
  { id: 'cli', row: 'gantry' as RunRmRowId, max: 1.0, text: 'gantry run --rm (CLI) ≤ 1.0 × ctr run --rm' },
  { id: 'api', row: 'gantry-api' as RunRmRowId, max: 0.5, text: 'warm gantry API run --rm ≤ 0.5 × ctr run --rm' },
];
/** Issue 18's memory goal (gantryd + conmons ÷ containerd + shims). */
const MEMORY_GOAL_MAX = 0.35;

interface Ratio {
  median: number;
  min: number;
}
const ratio = (a: Stats | undefined, b: Stats | undefined): Ratio | undefined =>
  a && b ? { median: a.medianMs / b.medianMs, min: a.minMs / b.minMs } : undefined;
const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const mib = (kib: number) => (kib / 1024).toFixed(1);

export async function writeContainersReport(input: ReportInput): Promise<void> {
  const { opts, batches } = input;
  const out: string[] = ['', `Containers: gantry vs containerd (ctr), podman and runc — busybox fixture, ${os.cpus().length} CPUs`, ''];

  // ---- run --rm ----
  const runRmStats: Partial<Record<RunRmRowId, Stats>> = {};
  for (const row of input.rows) {
    const ms = input.runRm.filter((s) => s.row === row && !s.warmup).map((s) => s.ms);
    if (ms.length) runRmStats[row] = stats(ms, 0);
  }
  const anchors = RUN_RM_ANCHORS.filter((a) => runRmStats[a]);
  const runRmRatios: Partial<Record<RunRmRowId, Partial<Record<string, Ratio>>>> = {};
  const t1: string[][] = [
    ['row', `run --rm IMAGE /bin/true (${opts.runs} runs)`, 'median ms', 'min ms', 'max ms', ...anchors.map((a) => `÷${a}`)],
  ];
  for (const row of input.rows) {
    const st = runRmStats[row];
    if (!st) continue;
    const byAnchor: Partial<Record<string, Ratio>> = {};
    for (const a of anchors) if (a !== row) byAnchor[a] = ratio(st, runRmStats[a]);
    runRmRatios[row] = byAnchor;
    t1.push([
      row,
      RUN_RM_LABEL[row],
      fmtMs(st.medianMs),
      fmtMs(st.minMs),
      fmtMs(st.maxMs),
      ...anchors.map((a) => byAnchor[a]?.median.toFixed(2) ?? ''),
    ]);
  }
  out.push(table(t1));
  for (const row of input.rows) {
    const measured = input.runRm.filter((s) => s.row === row && !s.warmup && s.parts);
    if (!measured.length) continue;
    const names = Object.keys(measured[0].parts!);
    const medians = names.map(
      (n) =>
        `${n} ${fmtMs(
          stats(
            measured.map((s) => s.parts![n]),
            0,
          ).medianMs,
        )}`,
    );
    out.push(`  ${row}, median of each call (ms): ${medians.join(', ')}`);
  }
  out.push('');

  // ---- batch: start, list, remove ----
  const ctrBatch = batches.find((b) => b.tool === 'ctr');
  const listStats = (b: BatchResult, i: number) => stats(b.lists[i].ms, 0);
  const ctrList = ctrBatch ? listStats(ctrBatch, 0) : undefined; // ctr tasks ls
  const per = (b: BatchResult) => b.startTotalMs / b.count;
  const count = batches[0]?.count ?? opts.count;
  const t2: string[][] = [
    [
      'tool',
      'list command',
      `start ${count} s`,
      'ms each',
      '÷ctr',
      'list median ms',
      'min ms',
      '÷ctr tasks ls',
      `rm -f ${count} s`,
      '÷ctr',
    ],
  ];
  for (const b of batches) {
    b.lists.forEach((l, i) => {
      const ls = listStats(b, i);
      const first = i === 0;
      t2.push([
        first ? b.tool : '',
        l.label,
        first ? (b.startTotalMs / 1000).toFixed(2) : '',
        first ? fmtMs(per(b)) : '',
        first && ctrBatch ? (b.startTotalMs / ctrBatch.startTotalMs).toFixed(2) : '',
        fmtMs(ls.medianMs),
        fmtMs(ls.minMs),
        ctrList ? (ls.medianMs / ctrList.medianMs).toFixed(2) : '',
        first ? (b.removeMs / 1000).toFixed(2) : '',
        first && ctrBatch ? (b.removeMs / ctrBatch.removeMs).toFixed(2) : '',
      ]);
    });
  }
  out.push(table(t2), '');

  // ---- memory ----
  const ctrMem = ctrBatch?.memory.totalPssKiB;
  const t3: string[][] = [
    [
      'tool',
      'processes counted',
      'daemon idle MiB',
      `daemon w/ ${count} MiB`,
      'monitors',
      'monitors MiB',
      'KiB each',
      'total PSS MiB',
      'RSS MiB',
      '÷containerd',
    ],
  ];
  for (const b of batches) {
    const m = b.memory;
    t3.push([
      b.tool,
      MONITOR[b.tool],
      m.daemon.length ? mib(b.memoryIdle.daemonPssKiB) : '—',
      m.daemon.length ? mib(m.daemonPssKiB) : '—',
      String(m.monitors.length),
      mib(m.monitorsPssKiB),
      m.monitors.length ? (m.monitorsPssKiB / m.monitors.length).toFixed(0) : '—',
      mib(m.totalPssKiB),
      mib(m.totalRssKiB),
      ctrMem ? (m.totalPssKiB / ctrMem).toFixed(2) : '',
    ]);
  }
  out.push(table(t3), '');

  // ---- goals ----
  const goals = GOALS.map((g) => {
    const r = runRmRatios[g.row]?.ctr;
    return { id: g.id, text: g.text, max: g.max, ratio: r, met: r ? r.median <= g.max : undefined };
  });
  const gantryMem = batches.find((b) => b.tool === 'gantry') ?? batches.find((b) => b.tool === 'gantry-api');
  const memRatio = gantryMem && ctrMem ? gantryMem.memory.totalPssKiB / ctrMem : undefined;
  goals.push({
    id: 'memory',
    text: `memory with ${count} running (gantryd + conmon PSS) ≤ ${MEMORY_GOAL_MAX} × containerd + shims`,
    max: MEMORY_GOAL_MAX,
    ratio: memRatio === undefined ? undefined : { median: memRatio, min: memRatio },
    met: memRatio === undefined ? undefined : memRatio <= MEMORY_GOAL_MAX,
  });
  // Issue 18's list and start goals: `gantry ps` ÷ `podman ps` ≤ 1.0, 50 detached starts ÷ ctr's ≤ 1.0.
  const gantryBatch = batches.find((b) => b.tool === 'gantry');
  const podmanBatch = batches.find((b) => b.tool === 'podman');
  if (gantryBatch && podmanBatch) {
    const ps = listStats(gantryBatch, 0);
    const podmanPs = listStats(podmanBatch, 0);
    goals.push({
      id: 'ps',
      text: `gantry ps with ${count} running ≤ 1.0 × podman ps`,
      max: 1.0,
      ratio: { median: ps.medianMs / podmanPs.medianMs, min: ps.minMs / podmanPs.minMs },
      met: ps.medianMs / podmanPs.medianMs <= 1.0,
    });
  }
  if (gantryBatch && ctrBatch) {
    const r = gantryBatch.startTotalMs / ctrBatch.startTotalMs;
    goals.push({ id: 'start', text: `start ${count} detached (CLI) ≤ 1.0 × ctr`, max: 1.0, ratio: { median: r, min: r }, met: r <= 1.0 });
  }
  out.push(goals.some((g) => g.ratio) ? 'Goals (medians; min/min in parentheses):' : 'Goals: need gantry and ctr in --tools.');
  for (const g of goals) {
    if (!g.ratio) continue;
    const min = g.id === 'memory' || g.id === 'start' ? '' : ` (${g.ratio.min.toFixed(2)})`;
    out.push(`  ${g.text}: ${g.ratio.median.toFixed(2)}${min} — ${g.met ? 'met' : 'NOT met'}`);
  }
  const apiWait = runRmRatios['gantry-api-wait']?.ctr;
  if (apiWait) out.push(`  (Create + Start + Wait + Remove instead: ${apiWait.median.toFixed(2)} × ctr)`);

  const report = {
    benchmark: 'containers',
    description:
      'run --rm IMAGE /bin/true per tool (ms), then per tool: start `count` detached sleep 300 one by one, memory (PSS from ' +
      '/proc/PID/smaps_rollup of the daemon and the per-container monitors), list, force-remove. Ratios: row / anchor (< 1: row faster/smaller).',
    date: new Date().toISOString(),
    machine: machineInfo(input.loadAtStart),
    versions: toolVersions({
      containerd: ['containerd', ['--version']],
      ctr: ['ctr', ['--version']],
      podman: ['podman', ['--version']],
      runc: ['runc', ['--version']],
      conmon: ['conmon', ['--version']],
    }),
    options: opts,
    gantryBuiltAt: input.gantryBuiltAt,
    image: {
      ref: input.image.ref,
      bytes: input.image.bytes,
      layers: input.image.layers.length,
      manifestDigest: input.image.manifestDigest,
    },
    goals,
    runRm: { results: runRmStats, ratios: runRmRatios, samples: input.runRm },
    batches,
  };
  await fs.promises.mkdir(path.dirname(opts.out), { recursive: true });
  await fs.promises.writeFile(opts.out, JSON.stringify(report, null, 2) + '\n');
  out.push(
    '',
    `load average ${input.loadAtStart[0]} at start, ${loadavg()[0]} at end (${os.cpus().length} CPUs)`,
    `JSON: ${path.relative(process.cwd(), opts.out) || opts.out}`,
  );
  process.stdout.write(out.join('\n') + '\n');
}
