/**
 * `gantry start`: start created or stopped containers. With -a (or -i) it
 * attaches first, in the same call that starts (Attach with start), and
 * exits with the container's exit code, as `docker start -a` does.
 */
import { attachAndStart } from '../../client';
import { internal } from '../../errdefs/errdefs';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { pumpSession } from '../stdio';
import { forEachContainer } from './containerCommon';
import { withClient } from '../withClient';

export const startCommand: Command = {
  name: 'start',
  summary: 'start stopped containers',
  usage: `Usage: gantry start [options] CONTAINER [CONTAINER...]

Options:
  -a, --attach        attach stdout/stderr and exit with the container's exit code
  -i, --interactive   attach stdin too (implies -a)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        attach: { type: 'boolean', short: 'a' },
        interactive: { type: 'boolean', short: 'i' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('start needs at least one container');
    const interactive = args.values.interactive === true;
    if (!args.values.attach && !interactive) {
      return forEachContainer(ctx, args.positionals, async (client, target) => {
        await client.containers.start(target);
        ctx.stdout.write(`${target}\n`);
      });
    }
    if (args.positionals.length > 1) throw new UsageError('you cannot start and attach multiple containers at once');
    return withClient(ctx, async (client) => {
      const details = await client.containers.inspect(args.positionals[0]);
      const summary = details.container!;
      const stdin = interactive && details.config?.openStdin === true;
      const session = attachAndStart(client, summary.id, { stdin });
      const code = await pumpSession(session, {
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        stdin: stdin ? process.stdin : undefined,
        tty: summary.tty,
      });
      if (code === undefined) throw internal('the daemon ended the attach without the exit code');
      return code;
    });
  },
};
