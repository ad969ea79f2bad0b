/**
 * `gantry ps` / `gantry container ls`: Docker's table, built from one List
 * call (no per-container requests). The row formatting is exported as pure
 * functions for the unit tests.
 */
import type { ContainerSummary } from '../../client';
import { humanDuration, portsText, shortId, statusName, statusText } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { summaryJson } from './containerCommon';
import { withClient } from '../withClient';
import { readFormat, writeRecords } from '../records';
import { goTimeString, labelsText, withLabelMethod } from '../listRecords';

export const PS_HEADERS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'] as const;

/** Docker's formatter.Ellipsis for ASCII-width text: at most `width` characters, the last one "…" when cut. */
export function ellipsis(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return chars.slice(0, width - 1).join('') + '…';
}

/** The COMMAND column: entrypoint + cmd joined by spaces, cut to 20 unless noTrunc, then quoted like Go's strconv.Quote. */
export function commandText(command: readonly string[], noTrunc: boolean): string {
  const joined = command.join(' ');
  return JSON.stringify(noTrunc ? joined : ellipsis(joined, 20));
}

/** IMAGE shows the image as the user named it; a bare digest/ID is shortened as Docker does. */
export function imageText(c: Pick<ContainerSummary, 'image' | 'imageId'>, noTrunc: boolean): string {
  const image = c.image || c.imageId;
  if (!noTrunc && /^sha256:[0-9a-f]{64}$/.test(image)) return shortId(image);
  return image;
}

export function psRow(c: ContainerSummary, noTrunc: boolean, now: number): string[] {
  return [
    noTrunc ? c.id : shortId(c.id),
    imageText(c, noTrunc),
    commandText(c.command, noTrunc),
    c.createdAt ? `${humanDuration(Math.max(0, now - c.createdAt.getTime()))} ago` : '',
    statusText(c, now),
    portsText(c.ports),
    c.name.replace(/^\//, ''),
  ];
}

/** `--format`'s record of a container: Docker's ps fields (docs/cli.md, "List records"). */
export const PS_DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
export const PS_FIELD_HEADERS: Readonly<Record<string, string>> = {
  ID: 'CONTAINER ID',
  RunningFor: 'CREATED',
  LocalVolumes: 'LOCAL VOLUMES',
  Label: 'LABEL',
};

export function psRecord(c: ContainerSummary, noTrunc: boolean, now: number) {
  const cut = (s: string, n: number) => (noTrunc || [...s].length <= n ? s : [...s].slice(0, n - 1).join('') + '…');
  const networks = c.networks.length ? c.networks.map((n) => n.network) : c.network ? [c.network] : [];
  return withLabelMethod(
    {
      Command: commandText(c.command, noTrunc),
      CreatedAt: goTimeString(c.createdAt),
      ID: noTrunc ? c.id : shortId(c.id),
      Image: imageText(c, noTrunc),
      Labels: labelsText(c.labels),
      LocalVolumes: '0',
      Mounts: c.mounts.map((m) => cut(m.source, 15)).join(','),
      Names: c.name.replace(/^\//, ''),
      Networks: [...networks].sort().join(','),
      Ports: portsText(c.ports),
      RunningFor: c.createdAt ? `${humanDuration(Math.max(0, now - c.createdAt.getTime()))} ago` : '',
      // Docker prints 0B unless `ps --size` asked the daemon for sizes; `gantry system df -v` has them.
      Size: '0B',
      State: statusName(c.status),
      Status: statusText(c, now),
    },
    c.labels,
  );
}

/** Newest first, as Docker lists. */
export function sortByCreated(containers: ContainerSummary[]): ContainerSummary[] {
  return containers.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) || a.name.localeCompare(b.name));
}

export const psCommand: Command = {
  name: 'ps',
  summary: 'list containers',
  usage: `Usage: gantry ps [options]

List containers (running ones unless -a), newest first.

Options:
  -a, --all              show all containers, not just running ones
  -q, --quiet            only container IDs
  -f, --filter KEY=VALUE filter: status, name, id, label, ancestor, health, exited,
                         namespace (k8s.io: the CRI's pods and containers, hidden otherwise) (repeatable)
  --no-trunc             full IDs and commands
  --json                 the records as a JSON array
  --format FORMAT        a Go template per container ({{.Names}} {{.Status}}), 'table …'
                         for aligned columns with a header, or json (one object per line);
                         fields as Docker's: .ID .Image .Command .CreatedAt .RunningFor
                         .Ports .Status .Size .Names .Labels .Label "k" .Mounts .Networks .State
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        all: { type: 'boolean', short: 'a' },
        quiet: { type: 'boolean', short: 'q' },
        filter: { type: 'string', short: 'f', multiple: true },
        'no-trunc': { type: 'boolean' },
        json: { type: 'boolean' },
        format: { type: 'string' },
      },
      ctx,
    );
    if (!args) return 0;
    const format = args.values.format ? readFormat(args.values.format, PS_DEFAULT_TABLE) : undefined;
    const filters = args.values.filter ?? [];
    for (const f of filters) {
      if (!/^[a-z]+=/.test(f)) throw new UsageError(`bad filter "${f}": expected KEY=VALUE`);
    }
    const containers = sortByCreated(await withClient(ctx, (c) => c.containers.list(args.values.all === true, filters)));
    const noTrunc = args.values['no-trunc'] === true;
    if (args.values.json) {
      writeJson(ctx.stdout, containers.map(summaryJson));
    } else if (args.values.quiet) {
      for (const c of containers) ctx.stdout.write(`${noTrunc ? c.id : shortId(c.id)}\n`);
    } else if (format) {
      const now = Date.now();
      writeRecords(
        ctx,
        format,
        containers.map((c) => psRecord(c, noTrunc, now)),
        PS_FIELD_HEADERS,
      );
    } else {
      const now = Date.now();
      writeTable(
        ctx.stdout,
        PS_HEADERS,
        containers.map((c) => psRow(c, noTrunc, now)),
      );
    }
    return 0;
  },
};
