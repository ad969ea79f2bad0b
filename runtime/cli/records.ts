/**
 * `--format` for every command that prints records (docs/cli.md, "Output
 * formats"): a Go template run per record, `table …` with a header row,
 * `json` for one JSON object per line, or the command's default table.
 * A template error (syntax, unknown field) exits 2, like a usage error.
 *
 * The one-liner for a list command:
 *   printRecords(ctx, records, { format: args.values.format, defaultTable: 'table {{.ID}}\t{{.Name}}', headers: { ID: 'VOLUME ID' } })
 * Parse early with `readFormat` when the command has work to do first, so a
 * typo fails before anything is asked of the daemon.
 */
import { parseRecordFormat, renderRecords, TemplateError, type RecordFormat } from '../presentation/template';
import type { CommandContext } from './command';
import { ExitCodeError } from './exitCode';

export interface RecordsOptions {
  /** What the user gave to --format; undefined or '' for the default table. */
  readonly format?: string;
  /** A `table …` template: what the command prints with no --format (and for `--format table`). */
  readonly defaultTable: string;
  /** Column titles for the table header, by field name; other fields get their name in capitals (`CreatedAt` → `CREATED AT`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Exit code of a bad template, as for a mistake in how a command was called. */
export const TEMPLATE_ERROR_EXIT = 2;

function asExit(e: unknown): unknown {
  return e instanceof TemplateError ? new ExitCodeError(e, TEMPLATE_ERROR_EXIT) : e;
}

/** Parses a --format value; a syntax error exits 2. */
export function readFormat(format: string | undefined, defaultTable: string): RecordFormat {
  try {
    return parseRecordFormat(format || defaultTable, defaultTable);
  } catch (e) {
    throw asExit(e);
  }
}

/** Writes every record as `format` says; a missing field exits 2 naming it, before anything is written. */
export function writeRecords(
  ctx: CommandContext,
  format: RecordFormat,
  records: readonly unknown[],
  headers?: Readonly<Record<string, string>>,
): void {
  let text: string;
  try {
    text = renderRecords(format, records, headers);
  } catch (e) {
    throw asExit(e);
  }
  ctx.stdout.write(text);
}

/** readFormat + writeRecords. */
export function printRecords(ctx: CommandContext, records: readonly unknown[], options: RecordsOptions): void {
  writeRecords(ctx, readFormat(options.format, options.defaultTable), records, options.headers);
}

/** The options every inspect form takes. */
export const INSPECT_OPTIONS = {
  format: { type: 'string', short: 'f' },
  json: { type: 'boolean' },
} as const;

export const INSPECT_OPTIONS_USAGE = `  -f, --format TEMPLATE  a Go template per object, on Docker's inspect shape
                         ({{.State.ExitCode}}, {{json .Config}}, {{range .Config.Env}}…);
                         'json' prints the Docker-shaped records as a JSON array
  --json                 the records as a JSON array (the default)
`;
