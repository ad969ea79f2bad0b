/**
 * `gantry container <subcommand>`: Docker's management-command spelling of
 * the container verbs (the same commands as the top-level ones), plus
 * `container prune` (containerPrune.ts), which has no top-level form.
 */
import { commandGroup, type Command } from '../command';
import { commitCommand, diffCommand, exportCommand } from './changes';
import { attachCommand, execCommand } from './exec';
import { containerInspectCommand } from './inspect';
import { containerPruneCommand } from './containerPrune';
import { cpCommand } from './cp';
import { killCommand, pauseCommand, restartCommand, rmCommand, stopCommand, unpauseCommand, waitCommand } from './lifecycle';
import { logsCommand } from './logs';
import { psCommand } from './ps';
import { createCommand, runCommand } from './run';
import { startCommand } from './start';
import { statsCommand, topCommand } from './stats';

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
  cp: cpCommand,
  prune: containerPruneCommand,
  diff: diffCommand,
  export: exportCommand,
  commit: commitCommand,
};

export const containerCommand: Command = commandGroup(
  {
    name: 'container',
    summary: 'manage containers (ls, run, start, stop, rm, logs, exec, prune …)',
    usage: `Usage: gantry container COMMAND

Commands:
${Object.entries(SUBCOMMANDS)
  .filter(([name]) => !['list', 'ps', 'remove'].includes(name))
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}
`,
  },
  SUBCOMMANDS,
);
