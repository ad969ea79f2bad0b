// Seccomp benchmark: what the default filter costs, measured against the
// same container without it (`--security-opt seccomp=unconfined`), same
// daemon, same image, same run, variant order rotated per iteration:
//
//   1. `gantry run --rm IMAGE /bin/true` (CLI, end to end): the filter is
//      built into the spec and loaded by runc at every start;
//   2. a syscall-heavy loop inside the container: the probe program
//      (test/fixtures/probes.c) makes --calls getppid() calls and reports
//      the loop's own time (CLOCK_MONOTONIC), so container start-up is out
//      of that number; every call passes through the filter.
//
// Reported: medians, min–max, and the ratio seccomp/unconfined of the
// medians and of each iteration's pair. docs/testing.md, "Benchmarks, not
// timed tests"; usage in bench/README.md.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { runGantry } from '../test/helpers/daemon';
import { pushBusybox } from '../test/helpers/fixtures';
import { probesBinary } from '../test/helpers/probes';
import { startGantryd } from './lib/daemons';
import { cleanup, openBenchSession, requireBinaries, runMain, timed } from './lib/harness';
import { intOption, rotation } from './lib/options';
import { GANTRY_JS, loadavg, machineInfo, REPO, stats, table, type Stats } from './lib/report';

const VARIANTS = ['seccomp', 'unconfined'] as const;
type Variant = (typeof VARIANTS)[number];
const SECURITY: Record<Variant, string[]> = { seccomp: [], unconfined: ['--security-opt', 'seccomp=unconfined'] };

const USAGE = `Usage: node out/bench/seccomp.js [--runs N] [--warmup N] [--calls N] [--out FILE]

  --runs N     measured iterations (default 10); each runs both variants of both cases
  --warmup N   unmeasured iterations first (default 1)
  --calls N    getppid() calls per loop (default 1000000)
  --out FILE   JSON report (default test-output/bench/seccomp.json)
`;

interface CaseResult {
  samples: Record<Variant, number[]>;
  stats: Record<Variant, Stats>;
  /** median(seccomp) / median(unconfined). */
  ratioOfMedians: number;
  /** Per iteration seccomp / unconfined: median, min, max. */
  pairedRatio: { median: number; min: number; max: number };
}

function summarise(samples: Record<Variant, number[]>): CaseResult {
  const s = { seccomp: stats(samples.seccomp, 0), unconfined: stats(samples.unconfined, 0) };
  const paired = samples.seccomp.map((v, i) => v / samples.unconfined[i]);
  const p = stats(paired, 0);
  return {
    samples,
    stats: s,
    ratioOfMedians: s.seccomp.medianMs / s.unconfined.medianMs,
    pairedRatio: { median: p.medianMs, min: p.minMs, max: p.maxMs },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '1' },
      calls: { type: 'string', default: '1000000' },
      out: { type: 'string', default: path.join(REPO, 'test-output/bench/seccomp.json') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const runs = intOption('runs', values.runs, 1);
  const warmup = intOption('warmup', values.warmup, 0);
  const calls = intOption('calls', values.calls, 1);
  requireBinaries(['runc', 'conmon', 'gcc', 'umoci', 'skopeo']);
  const session = await openBenchSession('seccomp', 'gbs', { images: ['probes'], tools: [...VARIANTS], warmup, runs });
  const { log, work, registry } = session;

  const probes = await probesBinary();
  await pushBusybox(registry, 'bench/probes:latest', { image: { copies: { '/usr/local/bin/probes': { source: probes, mode: 0o755 } } } });
  const ref = `${registry.host}/bench/probes:latest`;
  const gantryd = await startGantryd(path.join(work, 'gantryd'));
  cleanup.defer(() => gantryd.stop());
  const env = { ...process.env, GANTRY_SOCKET: gantryd.socket };
  const pulled = await runGantry(['pull', ref], { env });
  if (pulled.code !== 0) throw new Error(`pull failed: ${pulled.stderr}`);

  const runTrue: Record<Variant, number[]> = { seccomp: [], unconfined: [] };
  const loop: Record<Variant, number[]> = { seccomp: [], unconfined: [] };
  for (let it = -warmup; it < runs; it++) {
    for (const v of rotation(VARIANTS, it)) {
      const ms = await timed(process.execPath, [GANTRY_JS, 'run', '--rm', ...SECURITY[v], ref, '/bin/true'], { env });
      const r = await runGantry(['run', '--rm', ...SECURITY[v], ref, '/usr/local/bin/probes', 'loop', String(calls)], { env });
      const ns = Number(/loop_ns=(\d+)/.exec(r.stdout)?.[1]);
      if (r.code !== 0 || !Number.isFinite(ns)) throw new Error(`loop (${v}) failed: ${r.stdout}${r.stderr}`);
      if (it < 0) continue;
      runTrue[v].push(ms);
      loop[v].push(ns / 1e6);
    }
    log(`iteration ${it}${it < 0 ? ' (warm-up)' : ''} done`);
  }

  const result = { runTrue: summarise(runTrue), loop: summarise(loop) };
  const f = (n: number) => n.toFixed(n < 10 ? 1 : 0);
  const r = (n: number) => n.toFixed(3);
  const rows = [
    ['case', 'seccomp median (min–max) ms', 'unconfined median (min–max) ms', 'ratio of medians', 'paired ratio median (min–max)'],
  ];
  for (const [name, c] of [
    ['run --rm /bin/true', result.runTrue],
    [`${calls} getppid() in the container`, result.loop],
  ] as const) {
    const s = c.stats;
    rows.push([
      name,
      `${f(s.seccomp.medianMs)} (${f(s.seccomp.minMs)}–${f(s.seccomp.maxMs)})`,
      `${f(s.unconfined.medianMs)} (${f(s.unconfined.minMs)}–${f(s.unconfined.maxMs)})`,
      r(c.ratioOfMedians),
      `${r(c.pairedRatio.median)} (${r(c.pairedRatio.min)}–${r(c.pairedRatio.max)})`,
    ]);
  }
  process.stdout.write(table(rows) + '\n');
  const loadAtEnd = loadavg();
  log(
    `load average: start ${session.loadAtStart.join(' ')}, end ${loadAtEnd.join(' ')}${session.distChangedSinceStart() ? '; WARNING: dist/ changed during the run' : ''}`,
  );
  fs.mkdirSync(path.dirname(values.out), { recursive: true });
  fs.writeFileSync(
    values.out,
    JSON.stringify({ machine: machineInfo(session.loadAtStart), loadAtEnd, runs, warmup, calls, ...result }, null, 2),
  );
  log(`report: ${values.out}`);
}

runMain('seccomp', main);
