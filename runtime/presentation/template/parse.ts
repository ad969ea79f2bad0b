/**
 * The parser of the Go text/template subset (see index.ts for what is in
 * it). A template is split into text and `{{ … }}` actions, with Go's trim
 * markers (`{{- ` and ` -}}`), then the actions are read into a tree:
 * pipelines of commands (`.A.B | json`), `if`/`else if`/`else`/`end`,
 * `range` (with `$i, $e :=`), `with` and variable declarations. Every node
 * keeps where it began so an error can say `:LINE:COL`.
 */
import { TemplateError } from './errors';

export interface Pos {
  readonly line: number;
  readonly col: number;
}

export type Operand =
  | { kind: 'field'; pos: Pos; receiver?: Operand; path: string[]; text: string }
  | { kind: 'dot'; pos: Pos }
  | { kind: 'var'; pos: Pos; name: string; path: string[]; text: string }
  | { kind: 'string'; pos: Pos; value: string }
  | { kind: 'number'; pos: Pos; value: number }
  | { kind: 'bool'; pos: Pos; value: boolean }
  | { kind: 'nil'; pos: Pos }
  | { kind: 'func'; pos: Pos; name: string }
  | { kind: 'pipe'; pos: Pos; pipe: Pipeline };

export interface Command {
  readonly pos: Pos;
  readonly args: Operand[];
}

export interface Pipeline {
  readonly pos: Pos;
  readonly decl: string[];
  /** `$x = v` (assign an existing variable) rather than `$x := v`. */
  readonly assign?: boolean;
  readonly commands: Command[];
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: Pos; pipe: Pipeline }
  | { kind: 'if' | 'with'; pos: Pos; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'range'; pos: Pos; pipe: Pipeline; body: Node[]; otherwise: Node[] };

type Token =
  | { t: 'field'; v: string; pos: Pos } // ".A" (one segment; chains are consecutive field tokens)
  | { t: 'dot'; pos: Pos }
  | { t: 'var'; v: string; pos: Pos }
  | { t: 'ident'; v: string; pos: Pos }
  | { t: 'string'; v: string; pos: Pos }
  | { t: 'number'; v: number; pos: Pos }
  | { t: 'punct'; v: '|' | '(' | ')' | ',' | ':=' | '='; pos: Pos; spaceBefore: boolean }
  | { t: 'space'; pos: Pos };

function posAt(source: string, offset: number): Pos {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset; i++) {
    if (source[i] === '\n') {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/** Splits the source into text and action bodies, applying trim markers. */
function split(source: string): Array<{ text: string } | { action: string; offset: number }> {
  const parts: Array<{ text: string } | { action: string; offset: number }> = [];
  let i = 0;
  let trimNext = false;
  while (i <= source.length) {
    const open = source.indexOf('{{', i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) parts.push({ text });
      break;
    }
    let start = open + 2;
    if (source.startsWith('- ', start) || source.startsWith('-\t', start) || source.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push({ text });
    const close = findClose(source, start);
    if (close < 0) throw new TemplateError(`template: :${posText(posAt(source, open))}: unclosed action`);
    let end = close;
    if (close - start >= 1 && source[close - 1] === '-' && /\s/.test(source[close - 2] ?? '')) {
      end = close - 1;
      trimNext = true;
    }
    parts.push({ action: source.slice(start, end), offset: start });
    i = close + 2;
  }
  return parts;
}

/** The `}}` that closes an action, skipping over quoted strings. */
function findClose(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    const ch = source[i];
    if (ch === '"' || ch === '`') {
      const quote = ch;
      for (i++; i < source.length && source[i] !== quote; i++) if (quote === '"' && source[i] === '\\') i++;
      continue;
    }
    if (ch === '}' && source[i + 1] === '}') return i;
  }
  return -1;
}

export function posText(p: Pos): string {
  return `${p.line}:${p.col}`;
}

function lex(source: string, body: string, offset: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const at = (k: number) => posAt(source, offset + k);
  const fail = (k: number, message: string): never => {
    throw new TemplateError(`template: :${posText(at(k))}: ${message}`);
  };
  while (i < body.length) {
    const ch = body[i];
    if (/\s/.test(ch)) {
      const start = i;
      while (i < body.length && /\s/.test(body[i])) i++;
      tokens.push({ t: 'space', pos: at(start) });
      continue;
    }
    const spaceBefore = tokens.length === 0 || tokens[tokens.length - 1].t === 'space';
    if (ch === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)?/.exec(body.slice(i))!;
      if (m[1] === undefined) {
        if (/[0-9]/.test(body[i + 1] ?? '')) {
          const n = /^\.[0-9]+/.exec(body.slice(i))![0];
          tokens.push({ t: 'number', v: Number(n), pos: at(i) });
          i += n.length;
          continue;
        }
        tokens.push({ t: 'dot', pos: at(i) });
      } else tokens.push({ t: 'field', v: m[1], pos: at(i) });
      i += m[0].length;
      continue;
    }
    if (ch === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(body.slice(i))!;
      tokens.push({ t: 'var', v: m[0], pos: at(i) });
      i += m[0].length;
      continue;
    }
    if (ch === '"') {
      let j = i + 1;
      for (; j < body.length && body[j] !== '"'; j++) if (body[j] === '\\') j++;
      if (j >= body.length) fail(i, 'unterminated quoted string');
      try {
        tokens.push({ t: 'string', v: JSON.parse(body.slice(i, j + 1)) as string, pos: at(i) });
      } catch {
        fail(i, `bad quoted string ${body.slice(i, j + 1)}`);
      }
      i = j + 1;
      continue;
    }
    if (ch === '`') {
      const j = body.indexOf('`', i + 1);
      if (j < 0) fail(i, 'unterminated raw quoted string');
      tokens.push({ t: 'string', v: body.slice(i + 1, j), pos: at(i) });
      i = j + 1;
      continue;
    }
    if (/[-+0-9]/.test(ch)) {
      const m = /^[-+]?(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?)/.exec(body.slice(i));
      if (!m) fail(i, `bad number syntax: ${JSON.stringify(body.slice(i, i + 10))}`);
      tokens.push({ t: 'number', v: Number(m![0]), pos: at(i) });
      i += m![0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(body.slice(i))!;
      tokens.push({ t: 'ident', v: m[0], pos: at(i) });
      i += m[0].length;
      continue;
    }
    if (body.startsWith(':=', i)) {
      tokens.push({ t: 'punct', v: ':=', pos: at(i), spaceBefore });
      i += 2;
      continue;
    }
    if ('|(),='.includes(ch)) {
      tokens.push({ t: 'punct', v: ch as '|', pos: at(i), spaceBefore });
      i++;
      continue;
    }
    fail(i, `unexpected ${JSON.stringify(ch)} in command`);
  }
  return tokens;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

/** Reads one action's tokens. */
class ActionParser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly where: Pos,
  ) {}

  fail(pos: Pos, message: string): never {
    throw new TemplateError(`template: :${posText(pos)}: ${message}`);
  }

  private skipSpace(): void {
    while (this.tokens[this.i]?.t === 'space') this.i++;
  }

  peek(): Token | undefined {
    this.skipSpace();
    return this.tokens[this.i];
  }

  next(): Token | undefined {
    this.skipSpace();
    return this.tokens[this.i++];
  }

  atEnd(): boolean {
    return this.peek() === undefined;
  }

  keyword(): string | undefined {
    const t = this.peek();
    return t?.t === 'ident' && KEYWORDS.has(t.v) ? t.v : undefined;
  }

  pipeline(allowDecl: boolean, rangeDecl = false): Pipeline {
    const pos = this.peek()?.pos ?? this.where;
    const decl: string[] = [];
    let assign = false;
    if (allowDecl) {
      const save = this.i;
      const vars: string[] = [];
      for (;;) {
        const t = this.next();
        if (t?.t !== 'var') break;
        vars.push(t.v);
        const p = this.next();
        if (p?.t === 'punct' && (p.v === ':=' || p.v === '=')) {
          decl.push(...vars);
          assign = p.v === '=';
          break;
        }
        if (p?.t === 'punct' && p.v === ',' && rangeDecl && vars.length === 1) continue;
        vars.length = 0;
        break;
      }
      if (!decl.length) this.i = save;
    }
    const commands: Command[] = [];
    for (;;) {
      commands.push(this.command());
      const t = this.peek();
      if (t?.t === 'punct' && t.v === '|') {
        this.next();
        continue;
      }
      if (t === undefined || (t.t === 'punct' && t.v === ')')) break;
      this.fail(t.pos, `unexpected ${describeToken(t)} in operand`);
    }
    return { pos, decl, assign, commands };
  }

  private command(): Command {
    const first = this.peek();
    if (!first || (first.t === 'punct' && (first.v === '|' || first.v === ')')))
      this.fail(first?.pos ?? this.where, 'missing value for command');
    const args: Operand[] = [];
    for (;;) {
      const t = this.peek();
      if (!t || (t.t === 'punct' && (t.v === '|' || t.v === ')'))) break;
      args.push(this.operand());
    }
    return { pos: first.pos, args };
  }

  private operand(): Operand {
    const t = this.next()!;
    let base: Operand;
    switch (t.t) {
      case 'field':
        return this.fieldChain(t.pos, undefined, [t.v]);
      case 'dot':
        base = { kind: 'dot', pos: t.pos };
        break;
      case 'var': {
        const path = this.chainRest();
        return { kind: 'var', pos: t.pos, name: t.v, path, text: t.v + path.map((p) => `.${p}`).join('') };
      }
      case 'string':
        return { kind: 'string', pos: t.pos, value: t.v };
      case 'number':
        return { kind: 'number', pos: t.pos, value: t.v };
      case 'ident':
        if (t.v === 'true' || t.v === 'false') return { kind: 'bool', pos: t.pos, value: t.v === 'true' };
        if (t.v === 'nil') return { kind: 'nil', pos: t.pos };
        if (KEYWORDS.has(t.v)) this.fail(t.pos, `unexpected <${t.v}> in command`);
        return { kind: 'func', pos: t.pos, name: t.v };
      case 'punct':
        if (t.v === '(') {
          const pipe = this.pipeline(false);
          const close = this.next();
          if (close?.t !== 'punct' || close.v !== ')') this.fail(t.pos, 'unclosed left paren');
          base = { kind: 'pipe', pos: t.pos, pipe };
          const rest = this.chainRest();
          return rest.length ? { kind: 'field', pos: t.pos, receiver: base, path: rest, text: `(…).${rest.join('.')}` } : base;
        }
        return this.fail(t.pos, `unexpected ${describeToken(t)} in operand`);
      default:
        return this.fail(t.pos, 'unexpected token');
    }
    return base;
  }

  /** `.A.B.C` written without spaces is one chain. */
  private chainRest(): string[] {
    const path: string[] = [];
    while (this.tokens[this.i]?.t === 'field') path.push((this.tokens[this.i++] as { v: string }).v);
    return path;
  }

  private fieldChain(pos: Pos, receiver: Operand | undefined, path: string[]): Operand {
    path.push(...this.chainRest());
    return { kind: 'field', pos, receiver, path, text: '.' + path.join('.') };
  }
}

function describeToken(t: Token): string {
  switch (t.t) {
    case 'punct':
      return `"${t.v}"`;
    case 'ident':
    case 'var':
      return `<${t.v}>`;
    case 'string':
      return `quoted string`;
    default:
      return t.t;
  }
}

interface Frame {
  kind: 'root' | 'if' | 'with' | 'range';
  node?: Extract<Node, { kind: 'if' | 'with' | 'range' }>;
  into: Node[];
  elseSeen: boolean;
  /** `else if` nests an if whose `end` is shared with the outer one. */
  chained: number;
}

export function parseTemplate(source: string): Node[] {
  const root: Node[] = [];
  const stack: Frame[] = [{ kind: 'root', into: root, elseSeen: false, chained: 0 }];
  const top = () => stack[stack.length - 1];
  for (const part of split(source)) {
    if ('text' in part) {
      top().into.push({ kind: 'text', text: part.text });
      continue;
    }
    const where = posAt(source, part.offset);
    const body = part.action.trim();
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) throw new TemplateError(`template: :${posText(where)}: unclosed comment`);
      continue;
    }
    const p = new ActionParser(lex(source, part.action, part.offset), where);
    if (p.atEnd()) p.fail(where, 'missing value for command');
    const keyword = p.keyword();
    if (!keyword) {
      top().into.push({ kind: 'action', pos: where, pipe: p.pipeline(true) });
      continue;
    }
    const kwPos = p.next()!.pos;
    switch (keyword) {
      case 'if':
      case 'with':
      case 'range': {
        if (p.atEnd()) p.fail(kwPos, `missing value for ${keyword}`);
        const node = { kind: keyword, pos: kwPos, pipe: p.pipeline(true, keyword === 'range'), body: [], otherwise: [] } as Extract<
          Node,
          { kind: 'if' | 'with' | 'range' }
        >;
        top().into.push(node);
        stack.push({ kind: keyword, node, into: node.body, elseSeen: false, chained: 0 });
        break;
      }
      case 'else': {
        const frame = top();
        if (frame.kind === 'root') p.fail(kwPos, 'unexpected {{else}}');
        if (frame.elseSeen) p.fail(kwPos, 'expected end; found {{else}}');
        if (p.keyword() === 'if' && frame.kind === 'if') {
          const ifPos = p.next()!.pos;
          const node = { kind: 'if', pos: ifPos, pipe: p.pipeline(true), body: [], otherwise: [] } as Extract<
            Node,
            { kind: 'if' | 'with' | 'range' }
          >;
          frame.node!.otherwise.push(node);
          frame.node = node;
          frame.into = node.body;
          frame.chained++;
          break;
        }
        if (!p.atEnd()) p.fail(kwPos, 'unexpected text after {{else}}');
        frame.elseSeen = true;
        frame.into = frame.node!.otherwise;
        break;
      }
      case 'end': {
        if (!p.atEnd()) p.fail(kwPos, 'unexpected text after {{end}}');
        if (top().kind === 'root') p.fail(kwPos, 'unexpected {{end}}');
        stack.pop();
        break;
      }
      default:
        p.fail(kwPos, `{{${keyword}}} is not supported`);
    }
  }
  if (stack.length > 1) {
    const open = top().node!;
    throw new TemplateError(`template: :${posText(open.pos)}: unexpected EOF: {{${open.kind}}} has no {{end}}`);
  }
  return root;
}
