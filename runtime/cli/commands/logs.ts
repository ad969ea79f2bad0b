/**
 * `gantry logs`: replays a container's log (and with -f follows it), stdout
 * entries to stdout and stderr entries to stderr, as Docker does. Times for
 * --since/--until are read as Docker's timetypes.GetTimestamp reads them.
 */
import { readLogs, StdStream } from '../../client';
import { parseDuration } from '../../options';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { withClient } from '../withClient';

/**
 * A point in time from the command line: a duration before `now` ("10m",
 * "1h30m"), Unix seconds ("1700000000", "1700000000.5"), or an RFC 3339 date
 * or time ("2024-05-01", "2024-05-01T12:00:00Z", "…+02:00").
 */
export function parseTimestamp(value: string, now: number): Date {
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Math.round(Number(value) * 1000));
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return new Date(at);
  } else {
    let ms: number | undefined;
    try {
      ms = parseDuration(value);
    } catch {
      ms = undefined;
    }
    if (ms !== undefined) return new Date(now - ms);
  }
  throw new UsageError(`invalid time "${value}": use a duration such as 10m, Unix seconds, or an RFC 3339 time`);
}

/** Docker's RFC3339NanoFixed: always 9 fractional digits, UTC. Our timestamps carry milliseconds. */
export function formatLogTime(at: Date): string {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** "--tail all" or a count; undefined = all. */
export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === 'all') return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`invalid --tail "${value}": expected a number of lines or "all"`);
  const n = Number(value);
  return n < 0 ? undefined : n;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'print the logs of a container',
  usage: `Usage: gantry logs [options] CONTAINER

Print what the container wrote: stdout to stdout, stderr to stderr.

Options:
  -f, --follow         keep printing new output (across restarts) until the container is removed or Ctrl-C
  -n, --tail N         only the last N lines ("all" by default)
  --since TIME         only entries at or after TIME (10m, 2024-05-01T12:00:00Z, Unix seconds)
  --until TIME         only entries before TIME
  -t, --timestamps     prefix each line with its RFC 3339 time
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        follow: { type: 'boolean', short: 'f' },
        tail: { type: 'string', short: 'n' },
        since: { type: 'string' },
        until: { type: 'string' },
        timestamps: { type: 'boolean', short: 't' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('logs needs exactly one container');
    const now = Date.now();
    const since = args.values.since === undefined ? undefined : parseTimestamp(args.values.since, now);
    const until = args.values.until === undefined ? undefined : parseTimestamp(args.values.until, now);
    const tail = parseTail(args.values.tail);
    const timestamps = args.values.timestamps === true;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      await withClient(ctx, async (client) => {
        const entries = readLogs(client, args.positionals[0], { follow: args.values.follow === true, tail, since, until }, stop.signal);
        for await (const entry of entries) {
          const out = entry.stream === StdStream.STD_STREAM_STDERR ? ctx.stderr : ctx.stdout;
          if (timestamps && entry.timestamp) out.write(`${formatLogTime(entry.timestamp)} `);
          if (!out.write(entry.data)) await new Promise((resolve) => out.once('drain', resolve));
        }
      });
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
