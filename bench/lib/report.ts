// Statistics, tables and the run's context (machine, load, tool versions)
// shared by the benchmark scripts' reports.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
export const GANTRY_JS = path.join(REPO, 'dist/gantry.js');

export interface Stats {
  n: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
  /** MB/s (10^6 bytes) at the median time. */
  mbPerSec: number;
}

export function stats(ms: number[], bytes: number): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, medianMs: median, minMs: s[0], maxMs: s[s.length - 1], samplesMs: ms, mbPerSec: bytes / 1e6 / (median / 1000) };
}

export const fmtS = (ms: number) => (ms / 1000).toFixed(3);
export const fmtMB = (b: number) => (b / 1e6 >= 10 ? (b / 1e6).toFixed(0) : (b / 1e6).toFixed(2)) + ' MB';

/** Plain-text table: the first two columns left-aligned, the rest right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

/** First line of each tool's version output ("unknown" if it fails), plus gantry's version, commit and build time. */
export function toolVersions(tools: Record<string, [string, string[]]>): Record<string, string> {
  const first = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .split('\n')[0]
        .trim();
    } catch {
      return 'unknown';
    }
  };
  let gantry = 'unknown';
  try {
    gantry = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
    gantry += ` (${execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD']).toString().trim()}, dist built ${fs.statSync(GANTRY_JS).mtime.toISOString()})`;
  } catch {
    // best effort
  }
  const out: Record<string, string> = { node: process.version, gantry };
  for (const [name, [cmd, args]] of Object.entries(tools)) out[name] = first(cmd, args);
  return out;
}

export const loadavg = () => os.loadavg().map((l) => Number(l.toFixed(2)));

/** The machine, and the load average at start and end: other jobs skew everything. */
export function machineInfo(loadAtStart: number[]): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    loadavgAtStart: loadAtStart,
    loadavgAtEnd: loadavg(),
  };
}

/**
 * Others may rebuild dist/ while a benchmark runs; a run that spans two
 * builds measures neither. Call at start; the result tells at the end.
 */
export function watchDist(): () => boolean {
  const atStart = fs.statSync(GANTRY_JS).mtimeMs;
  return () => fs.statSync(GANTRY_JS).mtimeMs !== atStart;
}
