/**
 * The functions a template can call: Go text/template's builtins that people
 * use (and, or, not, eq, ne, lt, le, gt, ge, len, index, slice, print,
 * printf, println) and the ones the Docker CLI adds (json, join, split,
 * lower, upper, title, pad, truncate). Each takes evaluated arguments; a
 * thrown Error becomes "error calling NAME: …" at the call's position.
 */
import { formatValue, isGoMap, truthy } from './values';

export type TemplateFunc = (...args: unknown[]) => unknown;

function str(v: unknown, fn: string): string {
  if (typeof v !== 'string') throw new Error(`${fn} wants a string, got ${describeType(v)}`);
  return v;
}

export function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isGoMap(v)) return 'map';
  if (typeof v === 'object') return 'struct';
  return typeof v === 'number' ? 'number' : typeof v;
}

function compare(a: unknown, b: unknown, fn: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean' && (fn === 'eq' || fn === 'ne')) return a === b ? 0 : 1;
  if ((a === null || a === undefined) && (fn === 'eq' || fn === 'ne')) return b === null || b === undefined ? 0 : 1;
  throw new Error(`incompatible types for comparison`);
}

/** Go's fmt.Sprint: a space between operands when neither side is a string. */
function sprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** The verbs of fmt.Sprintf people use in templates: %s %v %d %q %t %x %X %f %e %g %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  const out = format.replace(
    /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g,
    (whole, flags: string, width?: string, prec?: string, verb?: string) => {
      if (verb === '%') return '%';
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const arg = args[n++];
      let text: string;
      switch (verb) {
        case 's':
        case 'v':
          text = formatValue(arg);
          if (prec !== undefined && verb === 's') text = [...text].slice(0, Number(prec)).join('');
          break;
        case 'q':
          text = JSON.stringify(typeof arg === 'string' ? arg : formatValue(arg));
          break;
        case 'd':
          text = typeof arg === 'number' ? String(Math.trunc(arg)) : `%!d(${describeType(arg)}=${formatValue(arg)})`;
          break;
        case 't':
          text = typeof arg === 'boolean' ? String(arg) : `%!t(${describeType(arg)}=${formatValue(arg)})`;
          break;
        case 'x':
        case 'X':
          text =
            typeof arg === 'number'
              ? Math.trunc(arg).toString(16)
              : Buffer.from(typeof arg === 'string' ? arg : formatValue(arg)).toString('hex');
          if (verb === 'X') text = text.toUpperCase();
          break;
        case 'f':
        case 'e':
        case 'g': {
          const num = typeof arg === 'number' ? arg : NaN;
          const p = prec === undefined ? undefined : Number(prec);
          text =
            verb === 'f'
              ? num.toFixed(p ?? 6)
              : verb === 'e'
                ? num.toExponential(p ?? 6)
                : p === undefined
                  ? String(num)
                  : num.toPrecision(p);
          break;
        }
        default:
          return `%!${verb}(${describeType(arg)}=${formatValue(arg)})`;
      }
      if (flags.includes('+') && typeof arg === 'number' && arg >= 0 && 'dfeg'.includes(verb)) text = '+' + text;
      const w = width === undefined ? 0 : Number(width);
      if (text.length < w)
        text = flags.includes('-')
          ? text.padEnd(w)
          : flags.includes('0') && typeof arg === 'number'
            ? text.padStart(w, '0')
            : text.padStart(w);
      void whole;
      return text;
    },
  );
  return n < args.length
    ? `${out}%!(EXTRA ${args
        .slice(n)
        .map((a) => `${describeType(a)}=${formatValue(a)}`)
        .join(', ')})`
    : out;
}

/** Go's encoding/json: map keys sorted, functions (Docker's methods) left out. */
function jsonValue(_key: string, x: unknown): unknown {
  if (typeof x === 'bigint') return Number(x);
  if (isGoMap(x))
    return Object.fromEntries(
      Object.keys(x)
        .sort()
        .map((k) => [k, x[k]]),
    );
  return x;
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const key of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof key !== 'number' || !Number.isInteger(key)) throw new Error(`cannot index slice/array with type ${describeType(key)}`);
      if (key < 0 || key >= v.length) throw new Error(`index out of range: ${key}`);
      v = typeof v === 'string' ? v.charCodeAt(key) : v[key];
    } else if (typeof v === 'object' && v !== null) {
      if (typeof key !== 'string') throw new Error(`value has type ${describeType(key)}; should be string`);
      // A missing map key gives the zero value, as Go's index does: "" for the string maps people index.
      v = Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : isGoMap(v) ? '' : undefined;
      if (v === undefined) throw new Error(`can't index item of type struct`);
    } else {
      throw new Error(`can't index item of type ${describeType(v)}`);
    }
  }
  return v;
}

function length(v: unknown): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (typeof v === 'object' && v !== null && isGoMap(v)) return Object.keys(v).length;
  throw new Error(`len of type ${describeType(v)}`);
}

export const FUNCS: Readonly<Record<string, TemplateFunc>> = {
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  not: (a) => !truthy(a),
  eq: (a, ...bs) => {
    if (!bs.length) throw new Error('missing argument for comparison');
    return bs.some((b) => compare(a, b, 'eq') === 0);
  },
  ne: (a, b) => compare(a, b, 'ne') !== 0,
  lt: (a, b) => compare(a, b, 'lt') < 0,
  le: (a, b) => compare(a, b, 'le') <= 0,
  gt: (a, b) => compare(a, b, 'gt') > 0,
  ge: (a, b) => compare(a, b, 'ge') >= 0,
  len: length,
  index,
  slice: (item, ...bounds) => {
    if (typeof item !== 'string' && !Array.isArray(item)) throw new Error(`can't slice item of type ${describeType(item)}`);
    const [from = 0, to = item.length] = bounds as number[];
    if (from < 0 || to > item.length || from > to) throw new Error(`slice index out of range`);
    return item.slice(from, to);
  },
  print: (...args) => sprint(args),
  printf: (format, ...args) => sprintf(str(format, 'printf'), args),
  println: (...args) => args.map(formatValue).join(' ') + '\n',
  // Docker's additions (docker/cli templates.basicFunctions).
  json: (v) => (v === undefined ? 'null' : (JSON.stringify(v, jsonValue) ?? 'null')),
  join: (list, sep) => {
    if (!Array.isArray(list)) throw new Error(`join wants a list, got ${describeType(list)}`);
    return list.map(formatValue).join(str(sep, 'join'));
  },
  split: (s, sep) => str(s, 'split').split(str(sep, 'split')),
  lower: (s) => str(s, 'lower').toLowerCase(),
  upper: (s) => str(s, 'upper').toUpperCase(),
  title: (s) =>
    str(s, 'title').replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase()),
  pad: (s, left, right) => ' '.repeat(Number(left)) + str(s, 'pad') + ' '.repeat(Number(right)),
  truncate: (s, n) => {
    const chars = [...str(s, 'truncate')];
    return chars.length > Number(n) ? chars.slice(0, Number(n)).join('') : chars.join('');
  },
};
