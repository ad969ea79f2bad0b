/**
 * gantryd's configuration file (docs/configuration.md): every daemon flag can
 * be written in `gantryd.toml`, and a flag given on the command line wins.
 *
 * The keys are derived from the flags themselves, so a flag added to
 * `gantry daemon` (runtime/daemon/main.ts) is a key of the file with no
 * change here: `--max-concurrent-downloads` → `max_concurrent_downloads`.
 * Only two things are written down here: the plural names of repeatable
 * flags (KEY_NAMES) and the TOML type of flags parsed as strings that hold
 * numbers or booleans (VALUE_TYPES). A new flag becomes a key the same way;
 * give a repeatable one a plural name in KEY_NAMES and a non-string one its
 * type in VALUE_TYPES.
 *
 * An unknown key, a wrong type or a syntax error stops gantryd with the file,
 * the line and the reason: a typo must not silently do nothing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'smol-toml';
import { invalidArgument } from '../errdefs/errdefs';
import { parseToml, tomlError, tomlTypeOf } from '../util/tomlFile';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  readonly default?: string | boolean | string[];
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;
export type FlagValue = string | boolean | string[] | undefined;

/** Flags that are about this run, not settings: never keys of the file. */
const NOT_SETTINGS = new Set(['config', 'print-config', 'help']);

/** Repeatable flags whose key is a plural (Docker's daemon.json spells them so too). */
const KEY_NAMES: Readonly<Record<string, string>> = {
  'insecure-registry': 'insecure_registries',
  'registry-mirror': 'registry_mirrors',
  'cni-bin-dir': 'cni_bin_dirs',
};

/** Flags parsed as strings whose TOML value is a number or a boolean. */
const VALUE_TYPES: Readonly<Record<string, 'integer' | 'boolean'>> = {
  'max-concurrent-downloads': 'integer',
  'max-concurrent-uploads': 'integer',
  'cri-stream-port': 'integer',
  cri: 'boolean',
};

/** The TOML key of flag `name`. */
export function keyOf(name: string): string {
  return KEY_NAMES[name] ?? name.replace(/-/g, '_');
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** gantry's configuration directory: /etc/gantry as root, else $XDG_CONFIG_HOME/gantry (~/.config/gantry). */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env, root = isRoot()): string {
  if (root) return '/etc/gantry';
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'gantry');
}

export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env, root = isRoot()): string {
  return path.join(defaultConfigDir(env, root), 'gantryd.toml');
}

/**
 * Reads and checks `file` against the flags: flag name → value, in the
 * shape parseArgs gives (strings, booleans, string arrays). Undefined when
 * the file does not exist and `required` is false (the default path).
 */
export function readConfigFile(file: string, specs: FlagSpecs, required: boolean): Map<string, FlagValue> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    throw invalidArgument(`cannot read the configuration file ${file}: ${(e as Error).message}`);
  }
  return parseConfig(file, text, specs);
}

/** The settings `text` (from `file`) holds, by flag name. */
export function parseConfig(file: string, text: string, specs: FlagSpecs): Map<string, FlagValue> {
  const doc = parseToml(file, text);
  const byKey = new Map<string, string>();
  for (const name of Object.keys(specs)) if (!NOT_SETTINGS.has(name)) byKey.set(keyOf(name), name);
  const out = new Map<string, FlagValue>();
  for (const [key, value] of Object.entries(doc.table)) {
    const name = byKey.get(key);
    if (!name) {
      const hint = nearest(key, [...byKey.keys()]);
      throw tomlError(
        doc,
        [],
        key,
        `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; the keys are in docs/configuration.md`,
      );
    }
    const spec = specs[name];
    const want = spec.multiple ? 'array of strings' : spec.type === 'boolean' ? 'boolean' : (VALUE_TYPES[name] ?? 'string');
    const wrong = () => tomlError(doc, [], key, `"${key}" must be ${article(want)}, not ${tomlTypeOf(value)}`);
    if (spec.multiple) {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw wrong();
      out.set(name, value);
    } else if (spec.type === 'boolean') {
      if (typeof value !== 'boolean') throw wrong();
      out.set(name, value);
    } else if (want === 'integer') {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong();
      out.set(name, String(value));
    } else if (want === 'boolean') {
      if (typeof value !== 'boolean') throw wrong();
      out.set(name, String(value));
    } else {
      if (typeof value !== 'string') throw wrong();
      out.set(name, value);
    }
  }
  return out;
}

export interface ParsedFlags<V> {
  readonly values: V;
  readonly tokens?: readonly { kind: string; name?: string }[];
}

/**
 * The effective settings: parseArgs' values (defaults included), with each
 * setting the command line did not give taken from the file when it has it.
 */
export function withFileSettings<V extends Record<string, FlagValue>>(parsed: ParsedFlags<V>, file: Map<string, FlagValue> | undefined): V {
  if (!file) return parsed.values;
  const given = new Set((parsed.tokens ?? []).filter((t) => t.kind === 'option' && t.name).map((t) => t.name as string));
  const out: Record<string, FlagValue> = { ...parsed.values };
  for (const [name, value] of file) if (!given.has(name)) out[name] = value;
  return out as V;
}

/**
 * The settings as a gantryd.toml (`gantry daemon --print-config`): every key,
 * in the flags' order; a setting with no value is a comment. Reading the
 * output back as the configuration file gives the same settings.
 */
export function printConfig(specs: FlagSpecs, values: Record<string, FlagValue>, source: string | undefined): string {
  const lines = [`# gantryd's effective settings: defaults, then ${source ?? '(no configuration file)'}, then the command line.`];
  for (const [name, spec] of Object.entries(specs)) {
    if (NOT_SETTINGS.has(name)) continue;
    const key = keyOf(name);
    const v = values[name];
    if (v === undefined || (typeof v === 'string' && v === '' && spec.default === undefined)) {
      lines.push(`# ${key} is not set`);
      continue;
    }
    let value: unknown = v;
    if (!spec.multiple && spec.type === 'string' && VALUE_TYPES[name] === 'integer' && /^-?\d+$/.test(v as string)) value = Number(v);
    if (!spec.multiple && spec.type === 'string' && VALUE_TYPES[name] === 'boolean' && (v === 'true' || v === 'false'))
      value = v === 'true';
    lines.push(stringify({ [key]: value }).trim());
  }
  return lines.join('\n') + '\n';
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The known key closest to a typo (edit distance ≤ 2), for the message. */
function nearest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
