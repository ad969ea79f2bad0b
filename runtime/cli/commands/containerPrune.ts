/**
 * `gantry container prune`: remove every container that is not running,
 * after asking (unless -f). Only reachable through the `container` group
 * (containerGroup.ts), as in Docker.
 */
import * as readline from 'node:readline';
import { parseCommandArgs, type Command } from '../command';
import { withClient } from '../withClient';

/** Reads one line of the user's answer; no input at all is "no". Also used by `network prune`. */
export async function confirm(question: string): Promise<boolean> {
  process.stderr.write(question);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
    process.stdin.destroy();
  }
}

export const containerPruneCommand: Command = {
  name: 'prune',
  summary: 'remove all stopped containers',
  usage: `Usage: gantry container prune [-f]

Remove every container that is not running (created, exited, dead).

Options:
  -f, --force   do not ask for confirmation
  --json        print the removed IDs as a JSON array
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        force: { type: 'boolean', short: 'f' },
        json: { type: 'boolean' },
      },
      ctx,
    );
    if (!args) return 0;
    if (!args.values.force) {
      const ok = await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
      if (!ok) return 0;
    }
    const removed = await withClient(ctx, (c) => c.containers.prune());
    if (args.values.json) {
      ctx.stdout.write(JSON.stringify(removed) + '\n');
    } else if (removed.length) {
      ctx.stdout.write(`Deleted Containers:\n${removed.map((id) => `${id}\n`).join('')}`);
    }
    return 0;
  },
};
