import { commandGroup, type Command } from '../command';
import { networkCreateCommand, networkInspectCommand, networkLsCommand, networkPruneCommand, networkRmCommand } from './networks';

/** `gantry network <subcommand>`: the networks containers join (docs/networking.md). */
const SUBCOMMANDS: Record<string, Command> = {
  create: networkCreateCommand,
  ls: networkLsCommand,
  list: networkLsCommand,
  inspect: networkInspectCommand,
  rm: networkRmCommand,
  remove: networkRmCommand,
  prune: networkPruneCommand,
};

export const networkCommand: Command = commandGroup(
  {
    name: 'network',
    summary: 'manage networks (create, ls, inspect, rm, prune)',
    usage: `Usage: gantry network COMMAND

Commands:
  create    create a network
  ls        list networks
  inspect   show the details of networks
  rm        remove networks
  prune     remove networks no container uses
`,
  },
  SUBCOMMANDS,
);
