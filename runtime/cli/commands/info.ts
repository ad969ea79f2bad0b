import { withClient } from '../withClient';
import { describeSource, ServingStatus } from '../../client';
import { parseCommandArgs, type Command } from '../command';
import { writeJson, writeSection } from '../output';
import { componentRows } from './version';

const INSTALL_HINT: Record<string, string> = {
  runc: 'install it (Debian/Ubuntu: apt-get install runc) or pass --runtime to gantry daemon',
  conmon: 'install it (Debian/Ubuntu: apt-get install conmon) or pass --conmon to gantry daemon',
};

export const infoCommand: Command = {
  name: 'info',
  summary: 'show where the daemon keeps its data and what it can run',
  usage: `Usage: gantry info [--json]

Show the daemon's health, paths and the runtime components it found.

Options:
  --json   print the information as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { json: { type: 'boolean' } }, ctx);
    if (!args) return 0;
    return withClient(ctx, async (client) => {
      const [server, health] = await Promise.all([
        client.system.version({ timeoutMs: 10_000 }),
        client.system.health('', { timeoutMs: 10_000 }),
      ]);
      const healthName = ServingStatus[health] ?? String(health);
      const warnings = server.components
        .filter((c) => !c.path)
        .map((c) => `${c.name} not found: containers cannot run until you ${INSTALL_HINT[c.name] ?? 'install it'}`);
      if (server.networkUnavailable) warnings.push(`only --network none and host work: ${server.networkUnavailable}`);
      if (server.socketGroup && !server.rootless) {
        warnings.push(`members of group ${server.socketGroup} may use this daemon's socket: that is equivalent to root on this machine`);
      }
      if (args.values.json) {
        writeJson(ctx.stdout, { ...server, socketSource: ctx.socketSource ?? '', health: healthName, warnings });
        return 0;
      }
      writeSection(ctx.stdout, 'Server:', [
        ['Health', healthName],
        ['Version', server.version],
        ['Root dir', server.root],
        ['State dir', server.state],
        ['Socket', ctx.socketSource ? `${server.socket} (${describeSource(ctx.socketSource)})` : server.socket],
        ...(server.socketGroup ? [['Socket group', server.socketGroup] as [string, string]] : []),
        ...(server.socketActivated ? [['Socket activation', 'systemd'] as [string, string]] : []),
        ['Rootful', server.rootful ? 'yes' : 'no'],
        ['Rootless', server.rootless ? `yes (RootlessKit, network ${server.rootlessNetwork})` : 'no'],
        ...(server.snapshotter ? [['Snapshotter', server.snapshotter] as [string, string]] : []),
        ['PID', String(server.pid)],
        ['Networks', server.networkUnavailable ? 'none, host' : 'bridge (CNI), user networks, none, host'],
        ...componentRows(server),
      ]);
      for (const warning of warnings) ctx.stdout.write(`\nWARNING: ${warning}`);
      if (warnings.length) ctx.stdout.write('\n');
      return 0;
    });
  },
};
