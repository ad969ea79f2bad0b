/**
 * `gantry container <subcommand>`: Docker's management-command spelling of
 * the container verbs (the same commands as the top-level ones), plus
 * `container prune`, which has no top-level form.
 */
import * as readline from 'node:readline';
import { commandGroup, parseCommandArgs, type Command } from '../command';
import { attachCommand, execCommand } from './exec';
import { containerInspectCommand } from './inspect';
import { killCommand, pauseCommand, restartCommand, rmCommand, stopCommand, unpauseCommand, waitCommand } from './lifecycle';
import { logsCommand } from './logs';
import { psCommand } from './ps';
import { createCommand, runCommand } from './run';
import { startCommand } from './start';
import { statsCommand, topCommand } from './stats';
import { withClient } from './containerCommon';

/** Reads one line of the user's answer; no input at all is "no". */
async function confirm(question: string): Promise<boolean> {
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
    const args = parseCommandArgs(this, argv, {
      force: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
    }, ctx);
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

const SUBCOMMANDS: Record<string, Command> = {
  ls: psCommand,
  list: psCommand,
  ps: psCommand,
  create: createCommand,
  run: runCommand,
  start: startCommand,
  stop: stopCommand,
  restart: restartCommand,
  kill: killCommand,
  pause: pauseCommand,
  unpause: unpauseCommand,
  rm: rmCommand,
  remove: rmCommand,
  inspect: containerInspectCommand,
  logs: logsCommand,
  wait: waitCommand,
  top: topCommand,
  stats: statsCommand,
  exec: execCommand,
  attach: attachCommand,
  prune: containerPruneCommand,
};

export const containerCommand: Command = commandGroup({
  name: 'container',
  summary: 'manage containers (ls, run, start, stop, rm, logs, exec, prune …)',
  usage: `Usage: gantry container COMMAND

Commands:
${Object.entries(SUBCOMMANDS)
  .filter(([name]) => !['list', 'ps', 'remove'].includes(name))
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}
`,
}, SUBCOMMANDS);
