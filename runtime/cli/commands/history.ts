import type { HistoryEntry } from '../../client';
import { createdByLine, ellipsis, formatAgo, formatSize, shortId } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { printRecords } from '../records';
import { withClient } from '../withClient';

/** Docker's `--human=false` date: RFC 3339 to the second (the epoch when the entry has none, as Docker prints it). */
function rfc3339(created: string): string {
  const at = Date.parse(created);
  return new Date(Number.isNaN(at) ? 0 : at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const historyCommand: Command = {
  name: 'history',
  summary: 'show the history of an image',
  usage: `Usage: gantry history [options] IMAGE

Show how an image was made: its config's history, newest first, with the
size of the files each step's layer holds. Entries below the newest have no
image of their own and show <missing>, as in Docker.

Options:
  -H, --human       sizes and dates for people (default true; --human=false
                    prints bytes and RFC 3339 dates)
  --no-trunc        do not shorten IDs and commands
  -q, --quiet       only the IDs
  --format TEMPLATE a Go template per entry ({{.ID}}, {{.CreatedSince}},
                    {{.CreatedAt}}, {{.CreatedBy}}, {{.Size}}, {{.Comment}});
                    'table …' adds a header, 'json' one object per line
  --json            the entries as a JSON array
`,
  async run(ctx, argv) {
    // --human=false is Docker's spelling; parseArgs has no boolean values, so it is read here.
    let human = true;
    const rest: string[] = [];
    for (const a of argv) {
      const m = /^(?:--human|-H)=(true|false|1|0)$/.exec(a);
      if (m) human = m[1] === 'true' || m[1] === '1';
      else rest.push(a);
    }
    const args = parseCommandArgs(
      this,
      rest,
      {
        human: { type: 'boolean', short: 'H' },
        'no-trunc': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        json: { type: 'boolean' },
        format: { type: 'string' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('history needs exactly one image');
    const entries = await withClient(ctx, (c) => c.images.history(args.positionals[0]));
    if (args.values.json) {
      writeJson(ctx.stdout, entries);
      return 0;
    }
    const trunc = !args.values['no-trunc'];
    const id = (e: HistoryEntry) => (e.id ? (trunc ? shortId(e.id) : e.id) : '<missing>');
    if (args.values.quiet) {
      for (const e of entries) ctx.stdout.write(`${id(e)}\n`);
      return 0;
    }
    const format = args.values.format;
    if (format && format !== 'table') {
      // Docker's history fields (formatter/history.go), as strings the way its table shows them.
      const records = entries.map((e) => ({
        ID: id(e),
        CreatedSince: e.created ? formatAgo(e.created) : '',
        CreatedAt: rfc3339(e.created),
        CreatedBy: trunc ? ellipsis(createdByLine(e.createdBy), 45) : createdByLine(e.createdBy),
        Size: human ? formatSize(e.size) : String(e.size),
        Comment: e.comment,
      }));
      printRecords(ctx, records, {
        format,
        defaultTable: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
        headers: { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY' },
      });
      return 0;
    }
    const rows = entries.map((e) => [
      id(e),
      human ? (e.created ? formatAgo(e.created) : '') : rfc3339(e.created),
      trunc ? ellipsis(createdByLine(e.createdBy), 45) : createdByLine(e.createdBy),
      human ? formatSize(e.size) : String(e.size),
      e.comment,
    ]);
    writeTable(ctx.stdout, ['IMAGE', human ? 'CREATED' : 'CREATED AT', 'CREATED BY', 'SIZE', 'COMMENT'], rows);
    return 0;
  },
};
