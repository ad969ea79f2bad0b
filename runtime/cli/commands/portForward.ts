/**
 * `gantry port-forward [--address ADDR] CONTAINER [LOCAL:]REMOTE...`: listens
 * on local ports and carries each connection to the port inside the
 * container's network namespace, until Ctrl-C (runtime/client/flows/portForward.ts;
 * docs/networking.md, "Port forwarding"). A failed connection is reported
 * and closed; forwarding goes on.
 */
import { describe, forwardPorts, parsePortForwardSpec } from '../../client';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { withClient } from '../withClient';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const portForwardCommand: Command = {
  name: 'port-forward',
  summary: "forward local ports to a container's ports without publishing them",
  usage: `Usage: gantry port-forward [options] CONTAINER [LOCAL:]REMOTE...

Listen on local ports and forward every connection to the container's port,
inside its network namespace (so a server bound to 127.0.0.1 there answers
too), until Ctrl-C. Works the same with --host ssh://…: the local port is on
this machine. LOCAL omitted: the same number as REMOTE; 0 (or ":REMOTE"): a
free port. TCP only.

Options:
  --address ADDR   the local address to listen on (default 127.0.0.1)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { address: { type: 'string' } }, ctx, true);
    if (!args) return 0;
    const [target, ...specs] = args.positionals;
    if (!target || !specs.length) throw new UsageError('port-forward needs CONTAINER and at least one [LOCAL:]REMOTE port');
    const ports = specs.map(parsePortForwardSpec);
    const address = args.values.address ?? '127.0.0.1';
    return withClient(ctx, async (client) => {
      const forwarding = await forwardPorts({
        client,
        container: target,
        ports,
        address,
        onError: (error, port) =>
          ctx.stderr.write(`gantry: forwarding ${hostPort(port.address, port.local)} -> ${port.remote}: ${describe(error)}\n`),
      });
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => (stop = resolve));
      for (const signal of STOP_SIGNALS) process.once(signal, stop);
      try {
        for (const p of forwarding.listening) ctx.stdout.write(`Forwarding from ${hostPort(p.address, p.local)} -> ${p.remote}\n`);
        await stopped;
      } finally {
        for (const signal of STOP_SIGNALS) process.off(signal, stop);
        await forwarding.close();
      }
      return 0;
    });
  },
};

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}
