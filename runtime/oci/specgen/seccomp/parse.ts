/**
 * Reads a seccomp profile in Docker's JSON format (what `--security-opt
 * seccomp=FILE` takes) into a Profile, checking every field runc would use:
 * a malformed profile is an InvalidArgument that names the field
 * (`syscalls[3].action: "SCMP_ACT_FOO" is not a seccomp action`), at
 * create, instead of a runc failure at start. Fields Docker ignores
 * (unknown keys) are ignored here too. Pure.
 */
import { invalidArgument } from '../../../errdefs/errdefs';
import type { ArchMapEntry, ArgTest, Condition, Profile, Rule, SeccompAction, SeccompOperator } from './seccomp';

const ACTIONS: readonly SeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];
const OPERATORS: readonly SeccompOperator[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

type Json = Record<string, unknown>;

class Reader {
  constructor(private readonly what: string) {}

  fail(at: string, why: string): never {
    throw invalidArgument(`invalid seccomp profile${this.what}: ${at}: ${why}`);
  }

  object(v: unknown, at: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(at, 'want an object');
    return v as Json;
  }

  array(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, 'want an array');
    return v;
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, 'want a string');
    return v;
  }

  strings(v: unknown, at: string): string[] {
    return this.array(v, at).map((s, i) => this.string(s, `${at}[${i}]`));
  }

  /** A non-negative integer JSON can carry exactly (seccomp values are u64; above 2^53 they would be rounded). */
  uint(v: unknown, at: string, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(at, `want a whole number ≥ 0, not ${JSON.stringify(v)}`);
    if (v > max) this.fail(at, `${v} is too large (at most ${max})`);
    return v;
  }

  action(v: unknown, at: string): SeccompAction {
    const s = this.string(v, at);
    if (!(ACTIONS as readonly string[]).includes(s)) this.fail(at, `${JSON.stringify(s)} is not a seccomp action (${ACTIONS.join(', ')})`);
    return s as SeccompAction;
  }
}

/** Parses and checks `text`; `source` (a file name) goes into the error messages. */
export function parseProfile(text: string, source?: string): Profile {
  const r = new Reader(source ? ` ${source}` : '');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalidArgument(`invalid seccomp profile${source ? ` ${source}` : ''}: not valid JSON: ${(e as Error).message}`, e);
  }
  const p = r.object(raw, 'the profile');
  if (p.defaultAction === undefined) r.fail('defaultAction', 'missing');
  const profile: {
    -readonly [K in keyof Profile]: Profile[K];
  } = { defaultAction: r.action(p.defaultAction, 'defaultAction'), syscalls: [] };
  if (p.defaultErrnoRet != null) profile.defaultErrnoRet = r.uint(p.defaultErrnoRet, 'defaultErrnoRet', 4095);
  if (p.architectures != null) profile.architectures = r.strings(p.architectures, 'architectures');
  if (p.archMap != null) profile.archMap = r.array(p.archMap, 'archMap').map((e, i) => archMapEntry(r, e, `archMap[${i}]`));
  if (p.flags != null) profile.flags = r.strings(p.flags, 'flags');
  if (p.listenerPath != null) profile.listenerPath = r.string(p.listenerPath, 'listenerPath');
  if (p.syscalls != null) profile.syscalls = r.array(p.syscalls, 'syscalls').map((s, i) => rule(r, s, `syscalls[${i}]`));
  return profile;
}

function archMapEntry(r: Reader, v: unknown, at: string): ArchMapEntry {
  const o = r.object(v, at);
  return {
    architecture: r.string(o.architecture, `${at}.architecture`),
    subArchitectures: o.subArchitectures == null ? [] : r.strings(o.subArchitectures, `${at}.subArchitectures`),
  };
}

function rule(r: Reader, v: unknown, at: string): Rule {
  const o = r.object(v, at);
  const hasName = o.name != null && o.name !== '';
  const hasNames = o.names != null && (o.names as unknown[]).length !== 0;
  if (hasName && hasNames) r.fail(at, "use either 'name' or 'names', not both");
  const names = hasName ? [r.string(o.name, `${at}.name`)] : hasNames ? r.strings(o.names, `${at}.names`) : r.fail(at, 'no syscall names');
  if (o.action === undefined) r.fail(`${at}.action`, 'missing');
  const out: { -readonly [K in keyof Rule]: Rule[K] } = { names, action: r.action(o.action, `${at}.action`) };
  if (o.errnoRet != null) out.errnoRet = r.uint(o.errnoRet, `${at}.errnoRet`, 4095);
  if (o.args != null) out.args = r.array(o.args, `${at}.args`).map((a, i) => argTest(r, a, `${at}.args[${i}]`));
  if (o.includes != null) out.includes = condition(r, o.includes, `${at}.includes`);
  if (o.excludes != null) out.excludes = condition(r, o.excludes, `${at}.excludes`);
  if (typeof o.comment === 'string') out.comment = o.comment;
  return out;
}

function argTest(r: Reader, v: unknown, at: string): ArgTest {
  const o = r.object(v, at);
  const op = r.string(o.op, `${at}.op`);
  if (!(OPERATORS as readonly string[]).includes(op))
    r.fail(`${at}.op`, `${JSON.stringify(op)} is not a comparison (${OPERATORS.join(', ')})`);
  const test: { -readonly [K in keyof ArgTest]: ArgTest[K] } = {
    index: r.uint(o.index, `${at}.index`, 5),
    value: r.uint(o.value ?? 0, `${at}.value`),
    op: op as SeccompOperator,
  };
  if (o.valueTwo != null) test.valueTwo = r.uint(o.valueTwo, `${at}.valueTwo`);
  return test;
}

function condition(r: Reader, v: unknown, at: string): Condition {
  const o = r.object(v, at);
  const c: { -readonly [K in keyof Condition]: Condition[K] } = {};
  if (o.caps != null) c.caps = r.strings(o.caps, `${at}.caps`);
  if (o.arches != null) c.arches = r.strings(o.arches, `${at}.arches`);
  if (o.minKernel != null && o.minKernel !== '') {
    const k = r.string(o.minKernel, `${at}.minKernel`);
    if (!/^\d+\.\d+$/.test(k)) r.fail(`${at}.minKernel`, `${JSON.stringify(k)} is not a kernel version like "4.8"`);
    c.minKernel = k;
  }
  return c;
}
