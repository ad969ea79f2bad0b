import { commandGroup, type Command } from '../command';
import { networkConnectCommand, networkDisconnectCommand } from './networkConnect';
import { networkCreateCommand, networkInspectCommand, networkLsCommand, networkPruneCommand, networkRmCommand } from './networks';

/** `gantry network <subcommand>`: the networks containers join (docs/networking.md). */
const SUBCOMMANDS: Record<string, Command> = {
  connect: networkConnectCommand,
  create: networkCreateCommand,
  disconnect: networkDisconnectCommand,
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
    summary: 'manage networks (create, ls, inspect, rm, prune, connect, disconnect)',
    usage: `Usage: gantry network COMMAND

Commands:
  connect     connect a container to a network
  create      create a network
  disconnect  disconnect a container from a network
  ls          list networks
  inspect     show the details of networks
  rm          remove networks
  prune       remove networks no container uses
`,
  },
  SUBCOMMANDS,
);
