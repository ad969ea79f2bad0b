/**
 * `gantry system df` and `gantry system prune` (docs/cli.md, "system df and
 * prune"). df asks the daemon's System.DiskUsage and words it as Docker
 * does (diskUsageReport.ts). prune is composed from the per-kind prunes:
 * stopped containers, networks no container uses, dangling images (every
 * image no container uses with -a); with --filter the client picks what
 * matches and removes each, since the prune RPCs take no filters.
 */
import type { RuntimeClient } from '../../client';
import { ContainerStatus } from '../../api/gen/gantry/v1/containers';
import { displayName } from '../../presentation';
import { commandGroup, parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { writeTable } from '../output';
import { printRecords } from '../records';
import { withClient } from '../withClient';
import { confirm } from './containerPrune';
import { DF_DEFAULT_TABLE, DF_FIELD_HEADERS, dfRows, dfVerboseTables, humanSize } from '../diskUsageReport';
import { hasFilters, matchesPruneFilter, parsePruneFilters, type PruneFilter } from '../pruneFilters';

export const systemDfCommand: Command = {
  name: 'df',
  summary: 'show disk usage of images, containers and volumes',
  usage: `Usage: gantry system df [options]

Show how much disk images, containers and local volumes take, and how much
a prune could reclaim (shared image layers are counted once).

Options:
  -v, --verbose      per-image, per-container and per-volume tables
  --format FORMAT    a Go template per row ({{.Type}} {{.Size}} {{.Reclaimable}}),
                     'table …', or json; fields .Type .TotalCount .Active .Size .Reclaimable
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { verbose: { type: 'boolean', short: 'v' }, format: { type: 'string' } }, ctx);
    if (!args) return 0;
    if (args.values.verbose && args.values.format) throw new UsageError('system df: -v and --format cannot be combined');
    const du = await withClient(ctx, (c) => c.system.diskUsage());
    if (!args.values.verbose) {
      printRecords(ctx, dfRows(du), { format: args.values.format, defaultTable: DF_DEFAULT_TABLE, headers: DF_FIELD_HEADERS });
      return 0;
    }
    for (const table of dfVerboseTables(du, Date.now())) {
      ctx.stdout.write(`${table.title}\n\n`);
      writeTable(ctx.stdout, table.headers, table.rows);
      ctx.stdout.write('\n');
    }
    ctx.stdout.write(`Build cache usage: ${humanSize(du.buildCacheSize)}\n`);
    return 0;
  },
};

const NOT_STOPPED = new Set([
  ContainerStatus.CONTAINER_STATUS_RUNNING,
  ContainerStatus.CONTAINER_STATUS_PAUSED,
  ContainerStatus.CONTAINER_STATUS_RESTARTING,
]);

interface PruneOptions {
  readonly all: boolean;
  readonly volumes: boolean;
  readonly filter: PruneFilter;
}

export function pruneWarning(o: PruneOptions, filters: readonly string[]): string {
  const lines = [
    'WARNING! This will remove:',
    '  - all stopped containers',
    '  - all networks not used by at least one container',
    ...(o.volumes ? ['  - all volumes not used by at least one container'] : []),
    o.all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    '  - unused build cache',
    ...(filters.length ? ['', '  Items to be pruned will be filtered with:', ...filters.map((f) => `  - ${f}`)] : []),
    '',
    'Are you sure you want to continue? [y/N] ',
  ];
  return lines.join('\n');
}

async function pruneContainers(client: RuntimeClient, f: PruneFilter): Promise<string[]> {
  if (!hasFilters(f)) return client.containers.prune();
  const removed: string[] = [];
  for (const c of await client.containers.list(true, [])) {
    if (NOT_STOPPED.has(c.status) || !matchesPruneFilter(f, c.createdAt, c.labels)) continue;
    await client.containers.remove(c.id, false);
    removed.push(c.id);
  }
  return removed;
}

async function pruneNetworks(client: RuntimeClient, f: PruneFilter): Promise<string[]> {
  if (!hasFilters(f)) return (await client.networks.prune()).removed;
  const removed: string[] = [];
  for (const n of await client.networks.list()) {
    if (n.builtin || n.readOnly || n.containers.length || !matchesPruneFilter(f, n.createdAt, n.labels)) continue;
    await client.networks.remove(n.name);
    removed.push(n.name);
  }
  return removed;
}

async function pruneImages(client: RuntimeClient, all: boolean, f: PruneFilter): Promise<{ untagged: string[]; reclaimedBytes: number }> {
  if (!hasFilters(f)) return client.images.prune(all);
  const used = new Set((await client.containers.list(true, [])).map((c) => c.imageId));
  const result = { untagged: [] as string[], reclaimedBytes: 0 };
  for (const i of await client.images.list()) {
    const candidate = all ? !used.has(i.id) : !i.tag;
    const created = i.created ? new Date(i.created) : undefined;
    if (!candidate || !matchesPruneFilter(f, created, i.labels)) continue;
    const r = await client.images.remove(i.name, false);
    result.untagged.push(...r.untagged);
    result.reclaimedBytes += r.reclaimedBytes;
  }
  return result;
}

async function prune(ctx: CommandContext, client: RuntimeClient, o: PruneOptions): Promise<void> {
  // Writable-layer sizes before they go: the container prune does not report them.
  const before = await client.system.diskUsage();
  const containerBytes = new Map(before.containers.map((c) => [c.id, c.size]));
  let reclaimed = 0;

  const containers = await pruneContainers(client, o.filter);
  if (containers.length) ctx.stdout.write(`Deleted Containers:\n${containers.map((id) => `${id}\n`).join('')}\n`);
  for (const id of containers) reclaimed += containerBytes.get(id) ?? 0;

  const networks = await pruneNetworks(client, o.filter);
  if (networks.length) ctx.stdout.write(`Deleted Networks:\n${networks.map((n) => `${n}\n`).join('')}\n`);

  if (o.volumes) {
    // Docker 23+: only anonymous volumes no container uses; label filters go to the daemon.
    const labels = o.filter.labels.map((l) => `${l.negate ? 'label!' : 'label'}=${l.key}${l.value === undefined ? '' : `=${l.value}`}`);
    const r = await client.volumes.prune({ filters: labels });
    if (r.removed.length) ctx.stdout.write(`Deleted Volumes:\n${r.removed.map((v) => `${v}\n`).join('')}\n`);
    reclaimed += r.reclaimedBytes;
  }

  const images = await pruneImages(client, o.all, o.filter);
  if (images.untagged.length)
    ctx.stdout.write(`Deleted Images:\n${images.untagged.map((n) => `untagged: ${displayName(n)}\n`).join('')}\n`);
  reclaimed += images.reclaimedBytes;

  ctx.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
}

export const systemPruneCommand: Command = {
  name: 'prune',
  summary: 'remove stopped containers, unused networks and dangling images',
  usage: `Usage: gantry system prune [options]

Remove all stopped containers, every network no container uses and dangling
(untagged) images, after asking. Prints what was removed and the space
reclaimed.

Options:
  -a, --all              remove every image no container uses, not just dangling ones
  --volumes              also remove volumes no container uses
  -f, --force            do not ask for confirmation (needed when stdin is not a terminal)
  --filter KEY=VALUE     until=24h|TIME, label=KEY[=VALUE], label!=KEY[=VALUE] (repeatable)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        all: { type: 'boolean', short: 'a' },
        volumes: { type: 'boolean' },
        force: { type: 'boolean', short: 'f' },
        filter: { type: 'string', multiple: true },
      },
      ctx,
    );
    if (!args) return 0;
    const filters = args.values.filter ?? [];
    const options: PruneOptions = {
      all: args.values.all === true,
      volumes: args.values.volumes === true,
      filter: parsePruneFilters(filters),
    };
    if (!args.values.force) {
      if (!process.stdin.isTTY)
        throw new Error('system prune asks for confirmation, but stdin is not a terminal; pass -f to prune without asking');
      if (!(await confirm(pruneWarning(options, filters)))) return 0;
    }
    await withClient(ctx, (client) => prune(ctx, client, options));
    return 0;
  },
};

export const systemCommand: Command = commandGroup(
  {
    name: 'system',
    summary: 'manage gantryd: disk usage, prune',
    usage: `Usage: gantry system COMMAND

Commands:
  df      show disk usage of images, containers and volumes
  prune   remove stopped containers, unused networks and dangling images

Run 'gantry system COMMAND --help' for a command's options.
`,
  },
  { df: systemDfCommand, prune: systemPruneCommand },
);
