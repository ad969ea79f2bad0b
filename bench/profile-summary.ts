// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and
// per source file, and the busy fraction of the profiled span. For the
// gantryd profiles `pull-content.js --profile` and `pull-unpack.js --profile`
// write. Also: the time below each project function (runtime/, src/: total
// = self + callees, each sample counted once per function), and native or
// library self time by the nearest project function that called it ("open
// ← runtime/unpack/writer.ts file"), which is where a fix would go.
//
//   node out/bench/profile-summary.js FILE.cpuprofile [--top N]
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  parent?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  if (positionals.length === 0) {
    process.stderr.write('Usage: node out/bench/profile-summary.js FILE.cpuprofile… [--top N]\n');
    process.exit(2);
  }
  for (const file of positionals) summarise(file, Number(values.top));
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the next delta to it.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
  }
  const total = profile.endTime - profile.startTime;
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)') idle += us;
    const { file: src, line } = original(frame);
    const where = src ? `${src}:${line}` : '';
    const fnKey = where ? `${name}  ${where}` : name;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + us);
    const fileKey = src || (name.startsWith('(') ? name : '(native)');
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const ms = (us: number) => (us / 1000).toFixed(1).padStart(8);
  const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';
  const out: string[] = [];
  out.push(`${path.basename(file)}: ${(total / 1000).toFixed(0)} ms profiled, ${((100 * (total - idle)) / total).toFixed(1)}% not idle`);
  out.push('', '  self ms   share  function');
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${ms(us)}  ${pct(us)}  ${k}`);
  out.push('', '  self ms   share  file');
  for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, Math.min(top, 15))) out.push(`${ms(us)}  ${pct(us)}  ${k}`);

  // Project frames: where our code is on the stack.
  for (const n of profile.nodes) for (const c of n.children ?? []) byId.get(c)!.parent = n.id;
  const projectKey = new Map<number, string | null>();
  const keyOf = (id: number): string | null => {
    let k = projectKey.get(id);
    if (k === undefined) {
      const frame = byId.get(id)!.callFrame;
      const { file: src, line } = original(frame);
      k = /^(runtime|src)\//.test(src) ? `${src}:${line} ${frame.functionName || '(anonymous)'}` : null;
      projectKey.set(id, k);
    }
    return k;
  };
  const inclusive = new Map<string, number>();
  const byCaller = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    let nearest: string | undefined;
    for (let n: number | undefined = id; n !== undefined; n = byId.get(n)!.parent) {
      const k = keyOf(n);
      if (!k) continue;
      nearest ??= k;
      seen.add(k);
    }
    for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    const leaf = byId.get(id)!.callFrame;
    if (nearest && !keyOf(id)) {
      const k = `${leaf.functionName || '(anonymous)'}  ←  ${nearest}`;
      byCaller.set(k, (byCaller.get(k) ?? 0) + us);
    }
  }
  out.push('', ' total ms   share  project function (self + callees)');
  for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${ms(us)}  ${pct(us)}  ${k}`);
  out.push('', '  self ms   share  native/library function  ←  nearest project caller');
  for (const [k, us] of [...byCaller].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${ms(us)}  ${pct(us)}  ${k}`);
  process.stdout.write(out.join('\n') + '\n\n');
}

const maps = new Map<string, SourceMap | null>();

/** Bundled frames (dist/gantry.js) mapped back to their source file via the bundle's .map. */
function original(frame: CallFrame): { file: string; line: number } {
  if (!frame.url) return { file: '', line: 0 };
  const file = frame.url.replace(/^file:\/\//, '');
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')));
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  const entry: { originalSource?: string; originalLine?: number } | undefined = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry?.originalSource) return { file: shortUrl(entry.originalSource), line: (entry.originalLine ?? 0) + 1 };
  return { file: shortUrl(frame.url), line: frame.lineNumber + 1 };
}

function shortUrl(url: string): string {
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('node_modules/');
  if (i >= 0) return u.slice(i);
  const r = u.search(/(^|\/)(runtime|src|test|bench)\//);
  if (r >= 0) return u.slice(r).replace(/^\//, '');
  return u.startsWith('node:') ? u : path.basename(u);
}

main();
