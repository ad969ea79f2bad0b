/**
 * `gantry network create|ls|inspect|rm|prune` (networkGroup.ts groups them):
 * the CNI networks of docs/networking.md, through `client.networks`. The
 * daemon checks subnets, names and whether a network is in use; its errors
 * are shown as they come (an in-use network's names its containers).
 */
import type { NetworkInfo } from '../../client';
import { parseLabels } from '../../options';
import { shortId } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { withClient } from '../withClient';
import { forEachContainer } from './containerCommon';
import { confirm } from './containerPrune';
import { inspectAll } from './inspect';
import { INSPECT_OPTIONS, INSPECT_OPTIONS_USAGE, readFormat, writeRecords } from '../records';
import { NETWORK_FIELD_HEADERS, NETWORK_LS_DEFAULT_TABLE, networkRecord } from '../listRecords';

export const NETWORK_LS_HEADERS = ['NETWORK ID', 'NAME', 'DRIVER', 'SUBNET'] as const;

export function networkRow(n: NetworkInfo, noTrunc: boolean): string[] {
  return [noTrunc ? n.id : shortId(n.id), n.name, n.driver, n.subnet];
}

/** `-o KEY=VALUE`: a value is required, unlike a label's. */
export function parseNetworkOptions(items: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`bad option ${JSON.stringify(item)}: expected KEY=VALUE`);
    options[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return options;
}

export const networkCreateCommand: Command = {
  name: 'create',
  summary: 'create a network',
  usage: `Usage: gantry network create [options] NAME

Create a bridge network and print its ID. Containers join it with
'gantry run --network NAME'; networks are isolated from each other.

Options:
  --subnet CIDR        the network's subnet (default: a free one)
  --gateway IP         the gateway address (default: the subnet's first host address)
  --internal           no route to the outside
  -o, --opt KEY=VALUE  driver option: bridge.name, mtu, ip-masq (or Docker's com.docker.network.* names); repeatable
  --label KEY[=VALUE]  set a label; repeatable
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        subnet: { type: 'string' },
        gateway: { type: 'string' },
        internal: { type: 'boolean' },
        opt: { type: 'string', short: 'o', multiple: true },
        label: { type: 'string', multiple: true },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('network create needs exactly one NAME');
    const options = parseNetworkOptions(args.values.opt ?? []);
    const labels = parseLabels(args.values.label ?? []);
    const network = await withClient(ctx, (c) =>
      c.networks.create({
        name: args.positionals[0],
        subnet: args.values.subnet ?? '',
        gateway: args.values.gateway ?? '',
        internal: args.values.internal === true,
        options,
        labels,
      }),
    );
    ctx.stdout.write(`${network.id}\n`);
    return 0;
  },
};

export const networkLsCommand: Command = {
  name: 'ls',
  summary: 'list networks',
  usage: `Usage: gantry network ls [options]

List the networks containers can join (none, host and container:NAME are
modes, not networks, and are not listed).

Options:
  -q, --quiet      only network IDs
  --no-trunc       full network IDs
  --format FORMAT  a Go template per network ({{.Name}} {{.Driver}}), 'table …' for
                   aligned columns with a header, or json (one object per line); fields
                   as Docker's: .ID .Name .Driver .Scope .IPv6 .Internal .Labels
                   .Label "k" .CreatedAt, and .Subnet
  --json           the records as a JSON array
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        quiet: { type: 'boolean', short: 'q' },
        'no-trunc': { type: 'boolean' },
        format: { type: 'string' },
        json: { type: 'boolean' },
      },
      ctx,
    );
    if (!args) return 0;
    const format = args.values.format ? readFormat(args.values.format, NETWORK_LS_DEFAULT_TABLE) : undefined;
    const networks = await withClient(ctx, (c) => c.networks.list());
    networks.sort((a, b) => a.name.localeCompare(b.name));
    const noTrunc = args.values['no-trunc'] === true;
    if (args.values.json) writeJson(ctx.stdout, networks);
    else if (args.values.quiet) for (const n of networks) ctx.stdout.write(`${noTrunc ? n.id : shortId(n.id)}\n`);
    else if (format)
      writeRecords(
        ctx,
        format,
        networks.map((n) => networkRecord(n, noTrunc)),
        NETWORK_FIELD_HEADERS,
      );
    else
      writeTable(
        ctx.stdout,
        NETWORK_LS_HEADERS,
        networks.map((n) => networkRow(n, noTrunc)),
      );
    return 0;
  },
};

export const networkInspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of networks as JSON',
  usage: `Usage: gantry network inspect [options] NETWORK [NETWORK...]

Print each network's record (subnet, gateway, options, labels, attached
containers) as a JSON array.

Options:
${INSPECT_OPTIONS_USAGE}`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, INSPECT_OPTIONS, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('network inspect needs at least one network');
    return inspectAll(ctx, args.positionals, 'network', args.values.format);
  },
};

export const networkRmCommand: Command = {
  name: 'rm',
  summary: 'remove networks',
  usage: `Usage: gantry network rm NETWORK [NETWORK...]

Remove networks. A network containers are configured for is refused, naming
them; the default network bridge cannot be removed.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('network rm needs at least one network');
    // The same "several at once" loop as the container verbs: each success prints the name as given.
    return forEachContainer(ctx, args.positionals, async (client, name) => {
      await client.networks.remove(name);
      ctx.stdout.write(`${name}\n`);
    });
  },
};

export const networkPruneCommand: Command = {
  name: 'prune',
  summary: 'remove networks no container uses',
  usage: `Usage: gantry network prune [-f]

Remove every user network no container is configured for, after asking
(unless -f).

Options:
  -f, --force   do not ask for confirmation
  --json        print the result as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { force: { type: 'boolean', short: 'f' }, json: { type: 'boolean' } }, ctx);
    if (!args) return 0;
    if (!args.values.force) {
      const ok = await confirm(
        'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ',
      );
      if (!ok) return 0;
    }
    const result = await withClient(ctx, (c) => c.networks.prune());
    if (args.values.json) writeJson(ctx.stdout, result);
    else if (result.removed.length) ctx.stdout.write(`Deleted Networks:\n${result.removed.map((n) => `${n}\n`).join('')}`);
    return 0;
  },
};
