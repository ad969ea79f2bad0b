/**
 * TOML configuration files (gantryd.toml, certs.d/<host>/hosts.toml): parse
 * with smol-toml (TOML 1.0) and report every problem as "FILE:LINE: reason",
 * so a typo is found in the file, not guessed at from behaviour.
 *
 * The parser knows lines only for syntax errors; for a key that is unknown or
 * of the wrong type, `lineOfKey` finds the line by reading the text again
 * (table headers and `key =` lines). Keys written as dotted keys or inline
 * tables are found by their table's header line, which is still the right
 * place to look.
 */
import { parse, TomlError } from 'smol-toml';
import { invalidArgument, type GantryError } from '../errdefs/errdefs';

export type TomlTable = Record<string, unknown>;

export interface TomlDocument {
  readonly file: string;
  readonly text: string;
  readonly table: TomlTable;
}

/** Parses `text` (read from `file`); a syntax error is InvalidArgument "FILE:LINE:COL: reason". */
export function parseToml(file: string, text: string): TomlDocument {
  try {
    return { file, text, table: parse(text) };
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split('\n')[0].trim();
      throw invalidArgument(`${file}:${e.line}:${e.column}: ${reason}`);
    }
    throw e;
  }
}

/** An InvalidArgument naming the file and the line of `key` in table `tablePath` ([] = the top level). */
export function tomlError(doc: TomlDocument, tablePath: readonly string[], key: string | undefined, reason: string): GantryError {
  const line = lineOfKey(doc.text, tablePath, key);
  return invalidArgument(`${doc.file}${line ? `:${line}` : ''}: ${reason}`);
}

/** 1-based line of `key` inside table `tablePath` (or of the table's header when the key is not on a line of its own); 0 when not found. */
export function lineOfKey(text: string, tablePath: readonly string[], key: string | undefined): number {
  const lines = text.split(/\r?\n/);
  const want = tablePath.join('\u0000');
  let current = '';
  let header = tablePath.length === 0 ? -1 : 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    const h = /^\[\[?(.*?)\]\]?\s*(#.*)?$/.exec(line);
    if (h) {
      current = splitKey(h[1]).join('\u0000');
      if (current === want && header === 0) header = i + 1;
      continue;
    }
    if (key === undefined || current !== want) continue;
    const eq = keyPart(line);
    if (eq !== undefined && splitKey(eq)[0] === key) return i + 1;
  }
  // A key of a sub-table written under its parent's header, e.g. `[host."x"]` tables.
  if (key === undefined || header > 0) return Math.max(header, 0);
  return 0;
}

/** The part before `=` of a `key = value` line, outside quotes; undefined for other lines. */
function keyPart(line: string): string | undefined {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '=') return line.slice(0, i).trim();
    else if (c === '#') return undefined;
  }
  return undefined;
}

/** `a."b.c".d` → ["a", "b.c", "d"]. */
export function splitKey(key: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < key.length) cur += key[++i];
      else cur += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '.') {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  parts.push(cur.trim());
  return parts;
}

/** A TOML value's type as the messages name it. */
export function tomlTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return 'integer';
  if (typeof v === 'number') return 'float';
  if (v !== null && typeof v === 'object') return 'table';
  return typeof v;
}
