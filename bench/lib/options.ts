// Command-line options the pull benchmarks share (--runs, --warmup, --images,
// --tools, --out, --profile, --gantryd-arg), plus script-specific extras.
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { IMAGE_IDS, type ImageId } from './fixtures';
import { REPO } from './report';

export interface BenchOptions<T extends string> {
  runs: number;
  warmup: number;
  images: ImageId[];
  tools: T[];
  /** JSON report path. */
  out: string;
  /** gantryd under --cpu-prof. */
  profile: boolean;
  gantrydArgs: string[];
}

export interface BenchOptionsSpec<T extends string> {
  /** Script name: the default JSON is test-output/bench/NAME.json. */
  name: string;
  defaultImages: ImageId[];
  tools: readonly T[];
  defaultTools: T[];
  /** Usage lines for script-specific options. */
  extraUsage?: string;
  /** Script-specific options (parseArgs syntax). */
  extra?: NonNullable<ParseArgsConfig['options']>;
}

/** Parses argv; prints usage and exits on --help. The extras come back as parsed, unchecked. */
export function parseBenchOptions<T extends string>(spec: BenchOptionsSpec<T>): { opts: BenchOptions<T>; extra: Record<string, unknown> } {
  const usage = `Usage: node out/bench/${spec.name}.js [options]

  --runs N            measured iterations per image (default 5)
  --warmup N          unmeasured iterations first (default 1)
  --images LIST       comma-separated, from ${IMAGE_IDS.join(',')} (default ${spec.defaultImages.join(',')})
  --tools LIST        comma-separated, from ${spec.tools.join(',')}
                      (default ${spec.defaultTools.join(',')})
  --out FILE          JSON report (default test-output/bench/${spec.name}.json)
  --profile           run gantryd under --cpu-prof (profiles in test-output/bench/profiles/)
  --gantryd-arg ARG   extra gantryd argument (repeatable), e.g. --gantryd-arg=--max-concurrent-downloads=10
${spec.extraUsage ?? ''}`;
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      images: { type: 'string', default: spec.defaultImages.join(',') },
      tools: { type: 'string', default: spec.defaultTools.join(',') },
      out: { type: 'string', default: path.join(REPO, `test-output/bench/${spec.name}.json`) },
      profile: { type: 'boolean', default: false },
      'gantryd-arg': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
      ...spec.extra,
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const list = <U extends string>(name: string, v: string, allowed: readonly U[]): U[] => {
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const i of items) if (!allowed.includes(i as U)) throw new Error(`--${name}: unknown "${i}" (one of ${allowed.join(', ')})`);
    return allowed.filter((a) => items.includes(a));
  };
  return {
    opts: {
      runs: intOption('runs', values.runs, 1),
      warmup: intOption('warmup', values.warmup, 0),
      images: list('images', values.images, IMAGE_IDS),
      tools: list('tools', values.tools, spec.tools),
      out: path.resolve(values.out),
      profile: values.profile,
      gantrydArgs: values['gantryd-arg'],
    },
    extra: values,
  };
}

export function intOption(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

/** The tools in the order of iteration `it` (may be negative: warm-ups): rotated so drift and after-effects hit every tool alike. */
export function rotation<T>(tools: readonly T[], it: number): T[] {
  const k = ((it % tools.length) + tools.length) % tools.length;
  return [...tools.slice(k), ...tools.slice(0, k)];
}
