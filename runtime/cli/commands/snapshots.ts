import { SnapshotKind } from '../../client';
import { formatAgo, formatSize } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { withClient } from '../withClient';

const KIND_NAME: Record<number, string> = {
  [SnapshotKind.SNAPSHOT_KIND_ACTIVE]: 'active',
  [SnapshotKind.SNAPSHOT_KIND_VIEW]: 'view',
  [SnapshotKind.SNAPSHOT_KIND_COMMITTED]: 'committed',
};

export const snapshotsCommand: Command = {
  name: 'snapshots',
  summary: "list unpacked snapshots (ls) or show one's disk usage (du KEY)",
  usage: `Usage: gantry snapshots ls [--json]
       gantry snapshots du KEY [--json]

Inspect the snapshotter that holds unpacked layers (named by ChainID) and
container root filesystems.
`,
  async run(ctx, argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'ls' && sub !== 'du') {
      if (sub === '-h' || sub === '--help') {
        ctx.stdout.write(this.usage);
        return 0;
      }
      throw new UsageError(`snapshots needs "ls" or "du", got "${sub ?? ''}"`);
    }
    const args = parseCommandArgs(this, rest, { json: { type: 'boolean' } }, ctx, sub === 'du');
    if (!args) return 0;
    return withClient(ctx, async (client) => {
      if (sub === 'du') {
        if (args.positionals.length !== 1) throw new UsageError('snapshots du needs one KEY');
        const usage = await client.snapshots.usage(args.positionals[0]);
        if (args.values.json) writeJson(ctx.stdout, usage);
        else ctx.stdout.write(`${formatSize(usage.size)}\t${usage.inodes} inodes\n`);
        return 0;
      }
      const list = await client.snapshots.list();
      const rows = list.snapshots.map((s) => ({ ...s, kind: KIND_NAME[s.kind] ?? 'unknown' }));
      if (args.values.json) {
        writeJson(ctx.stdout, { snapshotter: list.snapshotter, snapshots: rows });
        return 0;
      }
      writeTable(
        ctx.stdout,
        ['KEY', 'PARENT', 'KIND', 'CREATED'],
        rows.map((s) => [s.name, s.parent, s.kind, formatAgo(s.createdAt)]),
      );
      return 0;
    });
  },
};
