/**
 * `gantry volume create|ls|inspect|rm|prune` (volumeGroup.ts groups them):
 * named and anonymous volumes (docs/volumes.md) through `client.volumes`.
 * The daemon checks names and options and refuses to remove a volume in
 * use; its errors are shown as they come.
 */
import type { Volume } from '../../client';
import { parseLabels } from '../../options';
import { formatSize } from '../../presentation';
import { printRecords } from '../records';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { withClient } from '../withClient';
import { forEachContainer } from './containerCommon';
import { confirm } from './containerPrune';
import { parseNetworkOptions } from './networks';

export const VOLUME_LS_HEADERS = ['DRIVER', 'VOLUME NAME'] as const;

/** A volume as `docker volume inspect` prints it (plus who uses it and, when known, its size). */
const VOLUME_LS_TABLE = 'table {{.Driver}}\t{{.Name}}';

/** Docker's `volume ls --format` fields (formatter/volume.go): strings, as Docker prints them. */
function volumeListRecord(v: Volume): Record<string, unknown> {
  return {
    Name: v.name,
    Driver: v.driver,
    Scope: 'local',
    Mountpoint: v.mountpoint,
    Labels: Object.entries(v.labels)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
    Label: (key: string) => v.labels[key] ?? '',
    Links: v.size >= 0 ? String(v.users.length) : 'N/A',
    Size: v.size >= 0 ? formatSize(v.size) : 'N/A',
  };
}

export function dockerVolume(v: Volume): Record<string, unknown> {
  return {
    CreatedAt: v.createdAt?.toISOString() ?? '',
    Driver: v.driver,
    Labels: { ...v.labels },
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: { ...v.options },
    Scope: 'local',
    Anonymous: v.anonymous,
    UsedBy: v.users.map((u) => u.name),
    ...(v.size >= 0 ? { UsageData: { Size: v.size, RefCount: v.users.length } } : {}),
  };
}

export const volumeCreateCommand: Command = {
  name: 'create',
  summary: 'create a volume',
  usage: `Usage: gantry volume create [options] [NAME]

Create a volume and print its name (a generated one without NAME). Creating
a name that exists does nothing and prints it.

Options:
  -d, --driver local   the volume driver (only local)
  -o, --opt KEY=VALUE  local driver option: type, device, o (mounted with mount(8)
                       when a container first uses it, e.g. -o type=tmpfs -o device=tmpfs -o o=size=64m)
  --label KEY[=VALUE]  set a label; repeatable
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        driver: { type: 'string', short: 'd' },
        opt: { type: 'string', short: 'o', multiple: true },
        label: { type: 'string', multiple: true },
        name: { type: 'string' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length > 1) throw new UsageError('volume create takes at most one NAME');
    if (args.values.driver !== undefined && args.values.driver !== 'local') {
      throw new UsageError(`volume driver ${JSON.stringify(args.values.driver)} is not supported: only local`);
    }
    const name = args.positionals[0] ?? args.values.name ?? '';
    const options = parseNetworkOptions(args.values.opt ?? []);
    const labels = parseLabels(args.values.label ?? []);
    const volume = await withClient(ctx, (c) => c.volumes.create({ name, labels, options }));
    ctx.stdout.write(`${volume.name}\n`);
    return 0;
  },
};

export const volumeLsCommand: Command = {
  name: 'ls',
  summary: 'list volumes',
  usage: `Usage: gantry volume ls [options]

List volumes.

Options:
  -q, --quiet           only volume names
  -f, --filter FILTER   dangling=true|false, label=KEY[=VALUE], name=PART, driver=local; repeatable
  -s, --size            add each volume's size and how many containers use it
  --format TEMPLATE     a Go template per volume ({{.Name}}, {{.Driver}}, {{.Scope}},
                        {{.Mountpoint}}, {{.Labels}}, {{.Links}}, {{.Size}}); 'table …' adds a
                        header; 'json' prints one JSON object per line
  --json                the records as a JSON array
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        quiet: { type: 'boolean', short: 'q' },
        filter: { type: 'string', short: 'f', multiple: true },
        size: { type: 'boolean', short: 's' },
        format: { type: 'string' },
        json: { type: 'boolean' },
      },
      ctx,
    );
    if (!args) return 0;
    const format = args.values.format;
    const withSize = args.values.size === true || /\.(Size|Links)\b/.test(format ?? '');
    const volumes = await withClient(ctx, (c) => c.volumes.list({ filters: args.values.filter ?? [], withSize }));
    if (args.values.json) writeJson(ctx.stdout, volumes.map(dockerVolume));
    else if (format && format !== 'table')
      printRecords(ctx, volumes.map(volumeListRecord), { format, defaultTable: VOLUME_LS_TABLE, headers: { Name: 'VOLUME NAME' } });
    else if (args.values.quiet) for (const v of volumes) ctx.stdout.write(`${v.name}\n`);
    else if (withSize)
      writeTable(
        ctx.stdout,
        [...VOLUME_LS_HEADERS, 'LINKS', 'SIZE'],
        volumes.map((v) => [v.driver, v.name, String(v.users.length), formatSize(v.size)]),
      );
    else
      writeTable(
        ctx.stdout,
        VOLUME_LS_HEADERS,
        volumes.map((v) => [v.driver, v.name]),
      );
    return 0;
  },
};

export const volumeInspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of volumes as JSON',
  usage: `Usage: gantry volume inspect VOLUME [VOLUME...]

Print each volume's record as a JSON array, in Docker's shape (Name,
Driver, Mountpoint, Labels, Options, CreatedAt, Scope), with the containers
that use it and its size.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('volume inspect needs at least one volume');
    const results = await withClient(ctx, (c) => Promise.all(args.positionals.map((name) => c.volumes.inspect(name))));
    writeJson(ctx.stdout, results.map(dockerVolume));
    return 0;
  },
};

export const volumeRmCommand: Command = {
  name: 'rm',
  summary: 'remove volumes',
  usage: `Usage: gantry volume rm [-f] VOLUME [VOLUME...]

Remove volumes. A volume any container references, running or not, is
refused ("volume is in use"), also with -f.

Options:
  -f, --force   a volume that does not exist is not an error
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { force: { type: 'boolean', short: 'f' } }, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('volume rm needs at least one volume');
    return forEachContainer(ctx, args.positionals, async (client, name) => {
      await client.volumes.remove(name, { force: args.values.force === true });
      ctx.stdout.write(`${name}\n`);
    });
  },
};

export const volumePruneCommand: Command = {
  name: 'prune',
  summary: 'remove unused volumes',
  usage: `Usage: gantry volume prune [options]

Remove every anonymous volume no container uses (with -a, unused named
ones too), after asking (unless -f), and print how much space that freed.

Options:
  -a, --all             remove unused named volumes too
  --filter label=K[=V]  only volumes with (label!=: without) that label
  -f, --force           do not ask for confirmation
  --json                print the result as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        all: { type: 'boolean', short: 'a' },
        filter: { type: 'string', multiple: true },
        force: { type: 'boolean', short: 'f' },
        json: { type: 'boolean' },
      },
      ctx,
    );
    if (!args) return 0;
    const all = args.values.all === true;
    if (!args.values.force) {
      const ok = await confirm(
        `WARNING! This will remove ${all ? 'all' : 'anonymous'} local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] `,
      );
      if (!ok) return 0;
    }
    const result = await withClient(ctx, (c) => c.volumes.prune({ all, filters: args.values.filter ?? [] }));
    if (args.values.json) writeJson(ctx.stdout, result);
    else {
      if (result.removed.length) ctx.stdout.write(`Deleted Volumes:\n${result.removed.map((n) => `${n}\n`).join('')}\n`);
      ctx.stdout.write(`Total reclaimed space: ${formatSize(result.reclaimedBytes)}\n`);
    }
    return 0;
  },
};
