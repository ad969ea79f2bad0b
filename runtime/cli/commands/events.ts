import { EventCursor, type Envelope } from '../../client';
import { withClient } from '../withClient';
import { parseCommandArgs, UsageError, type Command } from '../command';

export const eventsCommand: Command = {
  name: 'events',
  summary: "stream the daemon's events, optionally replaying past ones",
  usage: `Usage: gantry events [--since SEQ] [--topic PREFIX]... [--no-follow] [--json]

Stream events as they happen. With --since, first replay every retained
event whose sequence number is greater than SEQ (0 = all of them).

Options:
  --since SEQ        replay events after sequence SEQ first
  --topic PREFIX     only events whose topic starts with PREFIX (repeatable)
  --no-follow        stop after the replay
  --json             one JSON object per line
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        since: { type: 'string' },
        topic: { type: 'string', multiple: true },
        'no-follow': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      ctx,
    );
    if (!args) return 0;
    let since: number | undefined;
    if (args.values.since !== undefined) {
      since = Number(args.values.since);
      if (!Number.isSafeInteger(since) || since < 0) throw new UsageError(`--since must be a sequence number, got "${args.values.since}"`);
    }
    const json = args.values.json === true;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      await withClient(ctx, (client) =>
        new EventCursor(since).follow(
          client,
          {
            onEvent: (event) => ctx.stdout.write(formatEvent(event, json) + '\n'),
            onGap: ({ oldest, latest }) => {
              if (json) ctx.stdout.write(JSON.stringify({ gap: { oldest, latest } }) + '\n');
              else ctx.stderr.write(`gantry: events before #${oldest} are no longer retained (latest is #${latest})\n`);
            },
          },
          stop.signal,
          { topics: args.values.topic ?? [], noFollow: args.values['no-follow'] === true },
        ),
      );
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

export function formatEvent(event: Envelope, json: boolean): string {
  const timestamp = event.timestamp?.toISOString() ?? '';
  if (json) {
    return JSON.stringify({
      sequence: event.sequence,
      timestamp,
      topic: event.topic,
      id: event.id,
      attributes: event.attributes,
    });
  }
  const attributes = Object.entries(event.attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return [timestamp, `#${event.sequence}`, event.topic, event.id, attributes ? `(${attributes})` : ''].filter(Boolean).join(' ');
}
