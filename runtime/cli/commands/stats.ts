/**
 * `gantry stats` and `gantry top`: resource use and processes of running
 * containers, in Docker's columns. Streaming stats keep one server stream per
 * container and draw the latest samples once a second: on a terminal the
 * screen is cleared and the table redrawn in place (as `docker stats`); into
 * a pipe or file each second's table is appended as a block, so a log of it
 * stays readable.
 */
import type { Writable } from 'node:stream';
import type { ContainerStats } from '../../client';
import { describe, isGantryError } from '../../errdefs/errdefs';
import { bytesSize, shortId } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { withClient } from '../withClient';

export const STATS_HEADERS = ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'PIDS'] as const;

export function statsRow(s: ContainerStats, noTrunc = false): string[] {
  const memPercent = s.memoryLimit > 0 ? (s.memoryUsage / s.memoryLimit) * 100 : 0;
  return [
    noTrunc ? s.id : shortId(s.id),
    s.name.replace(/^\//, ''),
    `${s.cpuPercent.toFixed(2)}%`,
    `${bytesSize(s.memoryUsage)} / ${bytesSize(s.memoryLimit)}`,
    `${memPercent.toFixed(2)}%`,
    String(s.pids),
  ];
}

function statsJson(s: ContainerStats): Record<string, unknown> {
  return { ...s, read: s.read?.toISOString() };
}

const CLEAR_SCREEN = '\x1b[2J\x1b[H';

function draw(out: Writable, samples: readonly ContainerStats[], tty: boolean, noTrunc: boolean): void {
  if (tty) out.write(CLEAR_SCREEN);
  writeTable(
    out,
    STATS_HEADERS,
    samples.map((s) => statsRow(s, noTrunc)),
  );
  if (!tty) out.write('\n');
}

export const statsCommand: Command = {
  name: 'stats',
  summary: "show containers' resource use",
  usage: `Usage: gantry stats [options] [CONTAINER...]

Show CPU, memory and PID use of the named containers (default: every running
one), refreshed each second until Ctrl-C.

Options:
  --no-stream   print one sample and exit
  --no-trunc    full container IDs
  --json        samples as JSON (an array with --no-stream, else one object per line)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        'no-stream': { type: 'boolean' },
        'no-trunc': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    const stream = args.values['no-stream'] !== true;
    const json = args.values.json === true;
    const noTrunc = args.values['no-trunc'] === true;
    const tty = Boolean((ctx.stdout as { isTTY?: boolean }).isTTY);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      return await withClient(ctx, async (client) => {
        const targets = args.positionals.length ? args.positionals : (await client.containers.list(false)).map((c) => c.id);
        if (!targets.length) {
          if (json) writeJson(ctx.stdout, []);
          else writeTable(ctx.stdout, STATS_HEADERS, []);
          return 0;
        }
        const latest = new Map<string, ContainerStats>();
        let fresh = false;
        const redraw = () => {
          if (!fresh || json) return;
          fresh = false;
          draw(
            ctx.stdout,
            targets.flatMap((t) => latest.get(t) ?? []),
            tty,
            noTrunc,
          );
        };
        const timer = stream ? setInterval(redraw, 1000) : undefined;
        const failures: string[] = [];
        try {
          await Promise.all(
            targets.map(async (target) => {
              try {
                for await (const sample of client.containers.stats(target, stream, stop.signal)) {
                  latest.set(target, sample);
                  fresh = true;
                  if (json && stream) ctx.stdout.write(JSON.stringify(statsJson(sample)) + '\n');
                  if (!stream) break;
                }
              } catch (e) {
                if (isGantryError(e) && e.transport) throw e;
                // A container that stops while watched keeps its last row; one that
                // cannot be read at all fails the command, as with Docker.
                if (latest.has(target)) return;
                failures.push(describe(e));
                stop.abort();
              }
            }),
          );
        } finally {
          clearInterval(timer);
        }
        if (failures.length) {
          for (const message of failures) ctx.stderr.write(`gantry: ${message}\n`);
          return 1;
        }
        if (!stream) {
          const samples = targets.flatMap((t) => latest.get(t) ?? []);
          if (json) writeJson(ctx.stdout, samples.map(statsJson));
          else
            writeTable(
              ctx.stdout,
              STATS_HEADERS,
              samples.map((s) => statsRow(s, noTrunc)),
            );
        } else if (!stop.signal.aborted) {
          redraw(); // the streams ended (containers stopped): show what they last said
        }
        return 0;
      });
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};

export const topCommand: Command = {
  name: 'top',
  summary: 'show the processes of a container',
  usage: `Usage: gantry top [--json] CONTAINER

List the processes running in the container, as ps on the host sees them.

Options:
  --json   {"titles": [...], "processes": [[...], ...]}: one array of fields per process
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { json: { type: 'boolean' } }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('top needs exactly one container');
    const top = await withClient(ctx, (c) => c.containers.top(args.positionals[0]));
    const rows = top.processes.map((p) => p.fields);
    if (args.values.json) writeJson(ctx.stdout, { titles: top.titles, processes: rows });
    else writeTable(ctx.stdout, top.titles, rows);
    return 0;
  },
};
