/**
 * The `--filter` of `gantry system prune`, as Docker's prune commands read
 * it: `until=TIME` (a duration before now such as `24h`, an RFC 3339 time or
 * date, or Unix seconds) keeps what was created after TIME; `label=KEY`,
 * `label=KEY=VALUE` keep only objects with that label (all must match);
 * `label!=KEY`, `label!=KEY=VALUE` spare objects with it.
 */
import { parseDuration } from '../options';
import { UsageError } from './command';

export interface PruneFilter {
  /** Epoch ms: only objects created before this are pruned. */
  readonly until?: number;
  readonly labels: ReadonlyArray<{ readonly key: string; readonly value?: string; readonly negate: boolean }>;
}

function parseUntil(value: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const time = Date.parse(value);
  if (!Number.isNaN(time)) return time;
  try {
    return now - parseDuration(value);
  } catch {
    throw new UsageError(`bad filter until=${value}: expected a duration (24h), a time (2024-01-02T15:04:05Z) or Unix seconds`);
  }
}

export function parsePruneFilters(items: readonly string[], now = Date.now()): PruneFilter {
  let until: number | undefined;
  const labels: Array<{ key: string; value?: string; negate: boolean }> = [];
  for (const item of items) {
    const m = /^(until|label)(!?)=(.*)$/.exec(item);
    if (!m) throw new UsageError(`bad filter "${item}": system prune takes until=TIME, label=KEY[=VALUE] and label!=KEY[=VALUE]`);
    const [, name, bang, rest] = m;
    if (name === 'until') {
      if (bang) throw new UsageError(`bad filter "${item}": until takes =, not !=`);
      until = parseUntil(rest, now);
      continue;
    }
    const eq = rest.indexOf('=');
    const key = eq < 0 ? rest : rest.slice(0, eq);
    if (!key) throw new UsageError(`bad filter "${item}": label needs a KEY`);
    labels.push(eq < 0 ? { key, negate: bang === '!' } : { key, value: rest.slice(eq + 1), negate: bang === '!' });
  }
  return { until, labels };
}

export function hasFilters(f: PruneFilter): boolean {
  return f.until !== undefined || f.labels.length > 0;
}

/** Whether an object created at `createdAt` with `labels` is pruned under `f`. */
export function matchesPruneFilter(f: PruneFilter, createdAt: Date | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (f.until !== undefined && (!createdAt || createdAt.getTime() >= f.until)) return false;
  for (const l of f.labels) {
    const has = Object.hasOwn(labels, l.key) && (l.value === undefined || labels[l.key] === l.value);
    if (l.negate ? has : !has) return false;
  }
  return true;
}
