/**
 * `gantry network connect|disconnect` (networkGroup.ts groups them): a
 * container joins or leaves a network, at once when it runs, at its next
 * start otherwise (docs/networking.md, "network connect and disconnect").
 * The daemon refuses what Docker refuses, in Docker's words.
 */
import { parseCommandArgs, UsageError, type Command } from '../command';
import { withClient } from '../withClient';

export const networkConnectCommand: Command = {
  name: 'connect',
  summary: 'connect a container to a network',
  usage: `Usage: gantry network connect [options] NETWORK CONTAINER

Connect a container to a network. A running container gets the network at
once (a new interface: eth1, eth2, …); a created or stopped one when it
next starts. The connection stays with the container.

Options:
  --alias NAME   a network-scoped alias for the container; repeatable
  --ip IP        the container's address on the network (in its subnet)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { alias: { type: 'string', multiple: true }, ip: { type: 'string' } }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 2) throw new UsageError('network connect needs exactly a NETWORK and a CONTAINER');
    const [network, container] = args.positionals;
    await withClient(ctx, (c) => c.networks.connect(network, container, { aliases: args.values.alias ?? [], ip: args.values.ip ?? '' }));
    return 0;
  },
};

export const networkDisconnectCommand: Command = {
  name: 'disconnect',
  summary: 'disconnect a container from a network',
  usage: `Usage: gantry network disconnect [options] NETWORK CONTAINER

Disconnect a container from a network: a running container loses that
interface at once (it may be left with loopback only); the connection is
taken out of the container's configuration either way.

Options:
  -f, --force   also when the network is gone or its release fails
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { force: { type: 'boolean', short: 'f' } }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 2) throw new UsageError('network disconnect needs exactly a NETWORK and a CONTAINER');
    const [network, container] = args.positionals;
    await withClient(ctx, (c) => c.networks.disconnect(network, container, { force: args.values.force === true }));
    return 0;
  },
};
