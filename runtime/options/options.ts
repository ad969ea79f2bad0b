/**
 * Docker-style option strings, parsed the way the docker CLI and daemon
 * parse them, for every front end (the `gantry` CLI, the VS Code extension)
 * to share. Pure functions: a bad value is an InvalidArgument that quotes
 * it and says what was expected; nothing touches the filesystem (whether a
 * bind source exists is the daemon's check).
 */
import { invalidArgument } from '../errdefs/errdefs';
import type { TmpfsMount } from '../containers/containers';
import { mountDestination, validateTmpfsOption } from '../oci/specgen/mounts';
import { signalName, signalNumber } from '../containers/signals';

const q = (s: string) => JSON.stringify(s);

/** `--tmpfs /DST[:OPT,OPT…]` (size=64m, mode=1777, uid=…, exec …). */
export function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(':');
  const dest = colon < 0 ? spec : spec.slice(0, colon);
  const options =
    colon < 0
      ? []
      : spec
          .slice(colon + 1)
          .split(',')
          .filter((o) => o !== '');
  const destination = mountDestination(dest, `tmpfs ${q(spec)}`);
  for (const o of options) {
    try {
      validateTmpfsOption(o);
    } catch (e) {
      throw invalidArgument(`tmpfs ${q(spec)}: ${(e as Error).message}`, e);
    }
  }
  return { destination, options };
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** `512m`, `1g`, `1.5G`, `1024`, `64MiB` → bytes (Docker's RAMInBytes: binary units, fraction truncated). */
export function parseMemory(value: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(i?)(b?)$/i.exec(value.trim());
  // "b" alone is a unit, "ib" is not.
  if (!m || (m[3] !== '' && m[2] === '')) throw invalidArgument(`invalid size: ${q(value)} (want e.g. 512m, 1g, 1073741824)`);
  const bytes = Math.trunc(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) throw invalidArgument(`invalid size: ${q(value)} is too large`);
  return bytes;
}

/** `--cpus 1.5` → NanoCPUs (1.5e9); at most 9 decimals, as Docker. */
export function parseCpus(value: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m || (m[1] === '' && (m[2] ?? '') === ''))
    throw invalidArgument(`invalid --cpus value ${q(value)}: want a decimal number such as 1.5`);
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > 9) throw invalidArgument(`invalid --cpus value ${q(value)}: value is too precise`);
  const nano = BigInt(m[1] || '0') * 1_000_000_000n + BigInt((frac || '0').padEnd(9, '0'));
  if (nano > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidArgument(`invalid --cpus value ${q(value)}: too large`);
  return Number(nano);
}

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
/** Go's time.Duration limit, in ms. */
const MAX_DURATION_MS = 9_223_372_036_854;

/**
 * A Go duration (`30s`, `1m30s`, `1.5h`, `500ms`, `0`) → whole milliseconds
 * (truncated, as Duration.Milliseconds). Negative durations and non-zero
 * ones under 1ms are refused: every Docker option taking one (health check
 * times, stop timeouts) needs a non-negative millisecond count.
 */
export function parseDuration(value: string): number {
  const bad = (why: string) => invalidArgument(`invalid duration ${q(value)}: ${why}`);
  let s = value.trim();
  if (s.startsWith('-')) throw bad('must not be negative');
  if (s.startsWith('+')) s = s.slice(1);
  if (s === '0') return 0;
  if (s === '') throw bad('empty');
  let total = 0;
  const re = /(\d*)(?:\.(\d*))?([a-zµμ]*)/y;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw bad('want a number followed by a unit, e.g. 30s, 1m30s, 500ms');
    const unit = m[3];
    if (unit === '') throw bad('missing unit (ns, us, ms, s, m, h)');
    const per = DURATION_UNITS_MS[unit];
    if (per === undefined) throw bad(`unknown unit ${q(unit)} (want ns, us, ms, s, m or h)`);
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * per;
  }
  if (total > MAX_DURATION_MS) throw bad('too long');
  const ms = Math.trunc(total);
  if (ms === 0 && total > 0) throw bad('shorter than 1ms');
  return ms;
}

/**
 * Lines of a Docker env file: `KEY=VALUE` kept verbatim (no quotes removed,
 * nothing trimmed after the key), blank lines and `#` comments skipped,
 * leading whitespace ignored, a UTF-8 BOM on the first line dropped. A bare
 * `KEY` takes its value from `env` and is left out when `env` lacks it.
 */
export function parseEnvFile(text: string, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  return parseKeyValueFile(text, 'env file', (key) => env[key]);
}

/** Lines of a `--label-file`: like an env file, but a bare `KEY` is dropped (Docker's behaviour). */
export function parseLabelFile(text: string): string[] {
  return parseKeyValueFile(text, 'label file', () => undefined);
}

function parseKeyValueFile(text: string, what: string, lookup: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.includes('\uFFFD')) throw invalidArgument(`${what} contains invalid utf8 bytes at line ${lineNo}`);
    line = line.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (/[ \t]/.test(key)) throw invalidArgument(`${what} line ${lineNo}: variable ${q(key)} contains whitespaces`);
    if (key === '') throw invalidArgument(`${what} line ${lineNo}: no variable name on line ${q(line)}`);
    if (eq >= 0) {
      out.push(line);
      return;
    }
    const value = lookup(key);
    if (value !== undefined) out.push(`${key}=${value}`);
  });
  return out;
}

/** `--label k=v` / `--label k` (empty value) → a map; the last value of a key wins. */
export function parseLabels(items: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key.trim() === '') throw invalidArgument(`invalid label ${q(item)}: empty name`);
    labels[key] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return labels;
}

// RFC 1123 labels, plus '_' which real hosts use and the kernel accepts.
const HOSTNAME_LABEL = /^[a-zA-Z0-9_]([a-zA-Z0-9_-]*[a-zA-Z0-9_])?$/;

/**
 * A host name the kernel takes (at most 64 bytes). It is written into
 * /etc/hosts and /etc/hostname, so nothing that could start another line
 * or field gets through.
 */
export function validateHostname(name: string): string {
  if (name.length === 0 || name.length > 64 || !name.split('.').every((l) => HOSTNAME_LABEL.test(l))) {
    throw invalidArgument(`invalid hostname format: ${q(name)} (letters, digits, '-', '_' and '.', at most 64 characters)`);
  }
  return name;
}

export interface ParsedSignal {
  /** Canonical, with the prefix: "SIGTERM", "SIGRTMIN+3". */
  readonly name: string;
  readonly number: number;
}

/** `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+2` → name and number (Linux table, see signals.ts). */
export function parseSignal(value: string): ParsedSignal {
  const s = value.trim();
  let n: number | undefined;
  if (/^\d+$/.test(s)) n = Number(s);
  else {
    const upper = s.toUpperCase();
    n = signalNumber(upper.startsWith('SIG') ? upper : `SIG${upper}`);
  }
  const name = n === undefined ? undefined : signalName(n);
  if (n === undefined || name === undefined) throw invalidArgument(`invalid signal: ${q(value)}`);
  return { name, number: n };
}
