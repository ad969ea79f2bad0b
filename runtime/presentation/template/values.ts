/**
 * How JavaScript values stand in for Go's in a template: a plain object is
 * a struct (an unknown field is an error), an object marked with `goMap` is
 * a map (an unknown key is "no value", printed `<no value>`), arrays are
 * slices, `null` is nil. `formatValue` prints a value as Go's `%v` does;
 * `truthy` is text/template's idea of true for `if`, `with` and `and`/`or`.
 */
const maps = new WeakSet<object>();

/** Marks `value` as a Go map (labels, options, the Networks of a container). */
export function goMap<T extends object>(value: T): T {
  maps.add(value);
  return value;
}

export function isGoMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && maps.has(value);
}

/** Keys in Go's order for printing and ranging over a map: sorted. */
export function mapKeys(value: object): string[] {
  return Object.keys(value).sort();
}

export function formatValue(value: unknown): string {
  if (value === undefined) return '<no value>';
  return formatInner(value);
}

function formatInner(value: unknown): string {
  if (value === undefined || value === null) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(formatInner).join(' ')}]`;
  if (typeof value === 'function') return '<func>';
  if (typeof value === 'object') {
    if (isGoMap(value))
      return `map[${mapKeys(value)
        .map((k) => `${k}:${formatInner(value[k])}`)
        .join(' ')}]`;
    return `{${Object.values(value as Record<string, unknown>)
      .filter((v) => typeof v !== 'function')
      .map(formatInner)
      .join(' ')}}`;
  }
  return typeof value === 'symbol' ? value.toString() : '<unknown>';
}

export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isGoMap(value)) return Object.keys(value).length > 0;
  return true;
}
