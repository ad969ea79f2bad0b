/**
 * `gantry install-service` and `gantry uninstall-service`: the rootful
 * daemon as a systemd service shared through a group (docs/service.md).
 * They need no daemon; the work is in runtime/service/.
 */
import * as path from 'node:path';
import { parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { installService, uninstallService, type ServiceReport } from '../../service/install';
import { DEFAULT_GROUP } from '../../service/units';

function requireRoot(name: string): void {
  if (process.geteuid?.() !== 0) throw new UsageError(`${name} must run as root (sudo gantry ${name})`);
}

function report(ctx: CommandContext, r: ServiceReport, verb: string): void {
  for (const file of r.files) ctx.stdout.write(`${verb} ${file}\n`);
  for (const action of r.actions) ctx.stdout.write(`${action}\n`);
  if (r.next.length) ctx.stdout.write(`\n${r.next.join('\n')}\n`);
}

export const installServiceCommand: Command = {
  name: 'install-service',
  summary: 'install the rootful gantryd as a systemd service shared through a group (root)',
  usage: `Usage: gantry install-service [options] [-- DAEMON-FLAGS...]

Write /etc/systemd/system/gantryd.service (and gantryd.socket) for the rootful
daemon, and create the group whose members may use its socket
(/run/gantry/gantry.sock, mode 0660). Membership of that group is equivalent
to root. Needs root.

Options:
  --node PATH        node binary the service runs (default: this one, ${process.execPath})
  --gantry PATH      gantry.js the service runs (default: this one)
  --group NAME       the socket's group (default: ${DEFAULT_GROUP})
  --no-socket        no gantryd.socket: gantryd binds the socket itself at boot
  --root DIR         write the units under DIR instead of / (no systemctl)
`,
  async run(ctx, argv) {
    const dashes = argv.indexOf('--');
    const own = dashes < 0 ? argv : argv.slice(0, dashes);
    const daemonArgs = dashes < 0 ? [] : argv.slice(dashes + 1);
    const args = parseCommandArgs(
      this,
      own,
      {
        node: { type: 'string' },
        gantry: { type: 'string' },
        group: { type: 'string' },
        'no-socket': { type: 'boolean' },
        root: { type: 'string' },
      },
      ctx,
    );
    if (!args) return 0;
    requireRoot(this.name);
    const script = args.values.gantry ?? process.argv[1];
    if (!script) throw new UsageError('install-service: cannot tell where gantry.js is; pass --gantry PATH');
    const r = await installService({
      node: path.resolve(args.values.node ?? process.execPath),
      script: path.resolve(script),
      group: args.values.group ?? DEFAULT_GROUP,
      daemonArgs,
      socketActivation: !args.values['no-socket'],
      root: args.values.root && path.resolve(args.values.root),
    });
    report(ctx, r, 'wrote');
    return 0;
  },
};

export const uninstallServiceCommand: Command = {
  name: 'uninstall-service',
  summary: 'remove the systemd service and its group (root)',
  usage: `Usage: gantry uninstall-service [options]

Stop and disable gantryd.socket and gantryd.service, remove their unit files
and the socket's group. Running containers are left alone. Needs root.

Options:
  --group NAME   the socket's group (default: ${DEFAULT_GROUP})
  --keep-group   leave the group
  --root DIR     remove the units under DIR instead of / (no systemctl)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      { group: { type: 'string' }, 'keep-group': { type: 'boolean' }, root: { type: 'string' } },
      ctx,
    );
    if (!args) return 0;
    requireRoot(this.name);
    const r = await uninstallService({
      group: args.values.group ?? DEFAULT_GROUP,
      keepGroup: args.values['keep-group'],
      root: args.values.root && path.resolve(args.values.root),
    });
    report(ctx, r, 'removed');
    return 0;
  },
};
