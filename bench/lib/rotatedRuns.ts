// Measurements in rotated order and their tables, for benchmarks that compare
// several targets of one kind (bench/network.ts): each iteration runs every
// target once, the order rotated so drift and after-effects hit all alike;
// tables give median, min, max, spread and ratios of medians; paired ratios
// are the median of the per-iteration ratios.
import { checkInterrupted } from './harness';
import { rotation } from './options';
import { loadavg, stats, table, type Stats } from './report';

/** One target of a rotated measurement: a label and one timed run. */
export interface Target<R> {
  label: string;
  run(): Promise<R>;
}

export async function rotated<R>(targets: Target<R>[], warmup: number, runs: number, log: (s: string) => void, show: (r: R) => string) {
  const samples: Record<string, R[]> = Object.fromEntries(targets.map((t) => [t.label, [] as R[]]));
  const iterations: Record<string, R>[] = [];
  for (let it = -warmup; it < runs; it++) {
    const line: string[] = [];
    const iteration: Record<string, R> = {};
    for (const t of rotation(targets, it)) {
      checkInterrupted();
      const r = await t.run();
      if (it >= 0) samples[t.label].push(r);
      iteration[t.label] = r;
      line.push(`${t.label} ${show(r)}`);
    }
    if (it >= 0) iterations.push(iteration);
    log(`  ${it < 0 ? 'warm-up' : `${it + 1}/${runs}`} (load ${loadavg()[0]}): ${line.join(', ')}`);
  }
  return { samples, iterations };
}

const median = (xs: number[]) => stats(xs, 0).medianMs;

/** Table rows: median, min, max, spread ((max − min) ÷ median), and each ratio of medians. */
export function timeTable(s: Record<string, Stats>, unit: (st: Stats) => string, anchors: string[]): string {
  const rows = [['row', '', 'median', 'min', 'max', 'spread', 'rate', ...anchors.map((a) => `÷ ${a}`)]];
  for (const [label, st] of Object.entries(s)) {
    rows.push([
      label,
      '',
      `${st.medianMs.toFixed(1)} ms`,
      st.minMs.toFixed(1),
      st.maxMs.toFixed(1),
      `${(((st.maxMs - st.minMs) / st.medianMs) * 100).toFixed(0)}%`,
      unit(st),
      ...anchors.map((a) => (s[a] ? (st.medianMs / s[a].medianMs).toFixed(2) : '-')),
    ]);
  }
  return table(rows);
}

/** Per iteration a ÷ b, then the median and range of those: less sensitive to drift than a ratio of medians. */
export function paired(iterations: Record<string, { ms: number }>[], a: string, b: string) {
  const r = iterations.filter((i) => i[a] && i[b]).map((i) => i[a].ms / i[b].ms);
  return r.length ? { median: median(r), min: Math.min(...r), max: Math.max(...r) } : undefined;
}
