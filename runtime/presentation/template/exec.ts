/**
 * Runs a parsed template against one value. `.` starts as that value and is
 * rebound by `range` and `with`; `$` is always the value itself. A field of
 * a struct (plain object) that is not there is an error naming the field
 * and its position, as Go's is; a missing map key prints `<no value>`.
 * A field that holds a function is called with the command's arguments
 * (Docker's `{{.Label "key"}}`).
 */
import { TemplateError } from './errors';
import { describeType, FUNCS } from './funcs';
import { posText, type Command, type Node, type Operand, type Pipeline, type Pos } from './parse';
import { formatValue, isGoMap, mapKeys, truthy } from './values';

interface State {
  out: string[];
  vars: Array<{ name: string; value: unknown }>;
}

class ExecError extends TemplateError {}

function fail(pos: Pos, at: string, message: string): never {
  throw new ExecError(`template: :${posText(pos)}: executing "" at <${at}>: ${message}`);
}

export function execute(nodes: readonly Node[], data: unknown): string {
  const state: State = { out: [], vars: [{ name: '$', value: data }] };
  walk(state, nodes, data);
  return state.out.join('');
}

function walk(state: State, nodes: readonly Node[], dot: unknown): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        state.out.push(node.text);
        break;
      case 'action': {
        const value = pipeline(state, node.pipe, dot);
        if (!node.pipe.decl.length) state.out.push(formatValue(value));
        break;
      }
      case 'if':
      case 'with': {
        const mark = state.vars.length;
        const value = pipeline(state, node.pipe, dot);
        if (truthy(value)) walk(state, node.body, node.kind === 'with' ? value : dot);
        else walk(state, node.otherwise, dot);
        state.vars.length = mark;
        break;
      }
      case 'range':
        range(state, node, dot);
        break;
    }
  }
}

function range(state: State, node: Extract<Node, { kind: 'range' }>, dot: unknown): void {
  const mark = state.vars.length;
  const value = pipeline(state, { ...node.pipe, decl: [] }, dot);
  const entries: Array<[unknown, unknown]> = [];
  if (Array.isArray(value)) value.forEach((v, i) => entries.push([i, v]));
  else if (isGoMap(value)) for (const k of mapKeys(value)) entries.push([k, value[k]]);
  else if (typeof value === 'number' && Number.isInteger(value)) for (let i = 0; i < value; i++) entries.push([i, i]);
  else if (value !== null && value !== undefined) fail(node.pos, 'range', `range can't iterate over ${formatValue(value)}`);
  if (!entries.length) {
    walk(state, node.otherwise, dot);
    return;
  }
  const [first, second] = node.pipe.decl;
  for (const [key, elem] of entries) {
    state.vars.length = mark;
    if (second !== undefined) state.vars.push({ name: first, value: key }, { name: second, value: elem });
    else if (first !== undefined) state.vars.push({ name: first, value: elem });
    walk(state, node.body, elem);
  }
  state.vars.length = mark;
}

function pipeline(state: State, pipe: Pipeline, dot: unknown): unknown {
  let value: unknown;
  let hasValue = false;
  for (const command of pipe.commands) {
    value = runCommand(state, command, dot, hasValue ? [value] : []);
    hasValue = true;
  }
  if (pipe.decl.length) {
    const [name] = pipe.decl;
    if (pipe.assign) {
      const existing = [...state.vars].reverse().find((v) => v.name === name);
      if (!existing) fail(pipe.pos, name, `undefined variable: ${name}`);
      existing.value = value;
    } else state.vars.push({ name, value });
  }
  return value;
}

function runCommand(state: State, command: Command, dot: unknown, piped: unknown[]): unknown {
  const [head, ...rest] = command.args;
  if (head.kind === 'func') {
    const fn = FUNCS[head.name];
    if (!fn) fail(head.pos, head.name, `function "${head.name}" not defined`);
    const args = [...rest.map((a) => operand(state, a, dot)), ...piped];
    try {
      return fn(...args);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      return fail(head.pos, head.name, `error calling ${head.name}: ${(e as Error).message}`);
    }
  }
  if (head.kind === 'field' && (rest.length || piped.length)) {
    // A method with arguments: {{.Label "com.example"}}.
    const { holder, value } = fieldValue(state, head, dot);
    if (typeof value !== 'function')
      fail(head.pos, head.text, `${head.path[head.path.length - 1]} has arguments but cannot be invoked as function`);
    return (value as (...a: unknown[]) => unknown).call(holder, ...rest.map((a) => operand(state, a, dot)), ...piped);
  }
  if (rest.length || piped.length) fail(head.pos, describeOperand(head), `can't give argument to non-function ${describeOperand(head)}`);
  return operand(state, head, dot);
}

function describeOperand(o: Operand): string {
  switch (o.kind) {
    case 'field':
    case 'var':
      return o.text;
    case 'dot':
      return '.';
    case 'string':
      return JSON.stringify(o.value);
    case 'number':
    case 'bool':
      return String(o.value);
    case 'nil':
      return 'nil';
    case 'func':
      return o.name;
    case 'pipe':
      return '(…)';
  }
}

function operand(state: State, o: Operand, dot: unknown): unknown {
  switch (o.kind) {
    case 'dot':
      return dot;
    case 'string':
    case 'number':
    case 'bool':
      return o.value;
    case 'nil':
      return null;
    case 'func': {
      const fn = FUNCS[o.name];
      if (!fn) fail(o.pos, o.name, `function "${o.name}" not defined`);
      try {
        return fn();
      } catch (e) {
        return fail(o.pos, o.name, `error calling ${o.name}: ${(e as Error).message}`);
      }
    }
    case 'pipe':
      return pipeline(state, o.pipe, dot);
    case 'var': {
      const v = [...state.vars].reverse().find((x) => x.name === o.name);
      if (!v) fail(o.pos, o.name, `undefined variable: ${o.name}`);
      return walkPath(v.value, o.path, o.pos, o.name);
    }
    case 'field': {
      const { holder, value } = fieldValue(state, o, dot);
      return typeof value === 'function' ? (value as () => unknown).call(holder) : value;
    }
  }
}

function fieldValue(state: State, o: Extract<Operand, { kind: 'field' }>, dot: unknown): { holder: unknown; value: unknown } {
  const start = o.receiver ? operand(state, o.receiver, dot) : dot;
  const holder = walkPath(start, o.path.slice(0, -1), o.pos, o.receiver ? '(…)' : '');
  const value = step(holder, o.path[o.path.length - 1], o.pos, o.text);
  return { holder, value };
}

function walkPath(start: unknown, path: readonly string[], pos: Pos, prefix: string): unknown {
  let v = start;
  let text = prefix;
  for (const name of path) {
    text += `.${name}`;
    const raw = step(v, name, pos, text);
    v = typeof raw === 'function' ? (raw as () => unknown).call(v) : raw;
  }
  return v;
}

function step(v: unknown, name: string, pos: Pos, text: string): unknown {
  if (v === null || v === undefined) fail(pos, text, `nil pointer evaluating ${v === null ? 'interface {}' : '<no value>'}.${name}`);
  if (typeof v !== 'object' && typeof v !== 'function') fail(pos, text, `can't evaluate field ${name} in type ${describeType(v)}`);
  if (isGoMap(v)) return Object.hasOwn(v, name) ? v[name] : undefined;
  if (!Object.hasOwn(v, name)) {
    // Methods of a record (class instances) live on its prototype.
    const method = (v as Record<string, unknown>)[name];
    if (typeof method === 'function' && !Object.hasOwn(Object.prototype, name)) return method;
    fail(pos, text, `can't evaluate field ${name}`);
  }
  return (v as Record<string, unknown>)[name];
}
