import { commandGroup, type Command } from '../command';
import { volumeCreateCommand, volumeInspectCommand, volumeLsCommand, volumePruneCommand, volumeRmCommand } from './volumes';

/** `gantry volume <subcommand>`: named and anonymous volumes (docs/volumes.md). */
const SUBCOMMANDS: Record<string, Command> = {
  create: volumeCreateCommand,
  ls: volumeLsCommand,
  list: volumeLsCommand,
  inspect: volumeInspectCommand,
  rm: volumeRmCommand,
  remove: volumeRmCommand,
  prune: volumePruneCommand,
};

export const volumeCommand: Command = commandGroup(
  {
    name: 'volume',
    summary: 'manage volumes (create, ls, inspect, rm, prune)',
    usage: `Usage: gantry volume COMMAND

Commands:
  create      create a volume
  ls          list volumes
  inspect     show the details of volumes
  rm          remove volumes
  prune       remove unused volumes
`,
  },
  SUBCOMMANDS,
);
