/**
 * `gantry port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published
 * ports in Docker's words ("80/tcp -> 0.0.0.0:8080"; with a port, only the
 * host addresses). The text is runtime/presentation/ports.ts's, the same as
 * the PORTS column of `gantry ps`.
 */
import { invalidArgument, notFound } from '../../errdefs/errdefs';
import { containerPortName, hostAddress, portLines } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { withClient } from '../withClient';

/** "80", "80/tcp", "53/udp" → the port and protocol asked for. */
export function parsePrivatePort(text: string): { port: number; protocol: string } {
  const m = /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw invalidArgument(`invalid port ${JSON.stringify(text)}: want PORT[/tcp|/udp]`);
  return { port: Number(m[1]), protocol: (m[2] ?? 'tcp').toLowerCase() };
}

export const portCommand: Command = {
  name: 'port',
  summary: "list a container's published ports",
  usage: `Usage: gantry port CONTAINER [PRIVATE_PORT[/PROTO]]

List the container's port mappings ("80/tcp -> 0.0.0.0:8080"), or the host
addresses of one container port.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    const [target, privatePort, ...extra] = args.positionals;
    if (!target || extra.length) throw new UsageError('port needs CONTAINER and at most one PRIVATE_PORT[/PROTO]');
    const wanted = privatePort === undefined ? undefined : parsePrivatePort(privatePort);
    const { container } = await withClient(ctx, (c) => c.containers.inspect(target));
    const ports = container?.ports ?? [];
    if (!wanted) {
      for (const line of portLines(ports)) ctx.stdout.write(`${line}\n`);
      return 0;
    }
    const matching = ports.filter((p) => p.containerPort === wanted.port && (p.protocol || 'tcp') === wanted.protocol);
    if (!matching.length)
      throw notFound(
        `no public port '${containerPortName({ containerPort: wanted.port, protocol: wanted.protocol })}' published for ${target}`,
      );
    for (const p of matching) ctx.stdout.write(`${hostAddress(p)}\n`);
    return 0;
  },
};
