import { withClient } from '../withClient';
import type { VersionResponse } from '../../client';
import { buildInfo } from '../../version';
import { parseCommandArgs, type Command } from '../command';
import { writeJson, writeSection } from '../output';

export function componentRows(server: VersionResponse): Array<[string, string]> {
  return server.components.map((c) => [c.name, c.path ? `${c.version} (${c.path})` : 'missing']);
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'show the client and daemon versions',
  usage: `Usage: gantry version [--json]

Show the versions of this CLI and of the gantryd it talks to.

Options:
  --json   print {"client": {...}, "server": {...}} as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { json: { type: 'boolean' } }, ctx);
    if (!args) return 0;
    return withClient(ctx, async (client) => {
      const server = await client.system.version({ timeoutMs: 10_000 });
      const local = buildInfo();
      if (args.values.json) {
        writeJson(ctx.stdout, { client: local, server });
        return 0;
      }
      writeSection(ctx.stdout, 'Client:', [
        ['Version', local.version],
        ['API version', local.apiVersion],
        ['Node', local.nodeVersion],
        ['OS/Arch', `${local.os}/${local.arch}`],
      ]);
      ctx.stdout.write('\n');
      writeSection(ctx.stdout, 'Server: gantryd', [
        ['Version', server.version],
        ['API version', server.apiVersion],
        ['Revision', server.revision || 'unknown'],
        ['Node', server.nodeVersion],
        ['OS/Arch', `${server.os}/${server.arch}`],
        ...componentRows(server),
      ]);
      return 0;
    });
  },
};
