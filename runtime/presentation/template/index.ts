/**
 * The Go-template subset people type after `--format` (docs/cli.md,
 * "Output formats"): `{{.Field.Path}}`, pipelines (`{{.X | json}}`),
 * `{{if}}`/`{{else if}}`/`{{else}}`, `{{range}}` (with `$i, $e :=`),
 * `{{with}}`, variables, Go's builtins (eq, ne, lt, and, or, not, len,
 * index, slice, print, printf, println) and the Docker CLI's functions
 * (json, join, split, lower, upper, title, pad, truncate).
 *
 * A template is parsed once (`Template.parse`) and executed per record.
 * `parseRecordFormat` reads a whole `--format` value the way the Docker CLI
 * does: `json` (one JSON object per line), `table …` (a header row made from
 * the field names, columns aligned by tabs) or a plain template; `\t` and
 * `\n` typed literally become a tab and a newline. Errors are
 * TemplateErrors whose message names the position and the field.
 */
import { TemplateError } from './errors';
import { execute } from './exec';
import { FUNCS } from './funcs';
import { parseTemplate, type Node } from './parse';
import { tabAlign } from './tabwriter';

export { TemplateError } from './errors';
export { goMap, formatValue } from './values';
export { tabAlign } from './tabwriter';

export class Template {
  private constructor(
    readonly source: string,
    private readonly nodes: readonly Node[],
  ) {}

  /** Throws TemplateError for a syntax error. */
  static parse(source: string): Template {
    return new Template(source, parseTemplate(source));
  }

  /** Throws TemplateError naming the field when `data` has no such field. */
  execute(data: unknown): string {
    return execute(this.nodes, data);
  }
}

export type RecordFormat =
  | { readonly kind: 'json' }
  | { readonly kind: 'table'; readonly template: Template }
  | { readonly kind: 'template'; readonly template: Template };

/**
 * Reads a `--format` value. `table` alone means `defaultTable` (itself a
 * `table …` format); `json` means one JSON object per record and line.
 */
export function parseRecordFormat(format: string, defaultTable?: string): RecordFormat {
  const trimmed = format.trim();
  if (trimmed === 'json') return { kind: 'json' };
  if (trimmed === 'table' && defaultTable !== undefined) return parseRecordFormat(defaultTable);
  const table = trimmed.startsWith('table');
  const body = (table ? trimmed.slice('table'.length) : format).trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const template = Template.parse(body);
  return table ? { kind: 'table', template } : { kind: 'template', template };
}

/**
 * The header cell for a field Docker has no special name for: its words in
 * capitals (`CreatedAt` → `CREATED AT`, `ID` → `ID`).
 */
export function defaultHeader(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toUpperCase();
}

/**
 * A value whose every field is its column title, to run a `table` template
 * on for the header row as the Docker CLI does. A field that is a method
 * (`.Label "x"`) gives its title too.
 */
function headerContext(headers: Readonly<Record<string, string>>): object {
  // Each field is a method returning its title, so `.Label "key"` (called with arguments) has one as well.
  const title = (name: string) => () => headers[name] ?? defaultHeader(name);
  return new Proxy(
    {},
    {
      has: () => true,
      get: (_t, name) => (typeof name === 'string' ? title(name) : undefined),
      getOwnPropertyDescriptor: (_t, name) =>
        typeof name === 'string' ? { value: title(name), configurable: true, enumerable: true, writable: false } : undefined,
    },
  );
}

/**
 * Renders every record with `format`, one output (and newline) per record,
 * as the Docker CLI does; a `table` format adds the header row and aligns
 * the columns. Throws TemplateError on the first record a field is missing
 * from.
 */
export function renderRecords(format: RecordFormat, records: readonly unknown[], headers: Readonly<Record<string, string>> = {}): string {
  if (format.kind === 'json') return records.map((r) => `${String(FUNCS.json(r))}\n`).join('');
  const rows = records.map((r) => format.template.execute(r) + '\n');
  if (format.kind === 'template') return rows.join('');
  let header: string;
  try {
    header = format.template.execute(headerContext(headers));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    header = '';
  }
  const text = (header ? header + '\n' : '') + rows.join('');
  return tabAlign(text);
}
