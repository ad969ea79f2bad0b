import { parseReference } from '../../distribution/reference';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { pullWithProgress, writePullStatus } from '../imagePull';
import { writeJson } from '../output';
import { withClient } from '../withClient';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'pull an image from a registry',
  usage: `Usage: gantry pull [options] NAME[:TAG|@DIGEST]

Download an image and store it, verified, in the daemon's content store.
Credentials come from ~/.docker/config.json (see 'gantry login').

Options:
  --platform OS/ARCH[/VARIANT]   pick this platform from a multi-platform image
  -q, --quiet                    print only the image name
  --json                         print the pulled image record as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        platform: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        json: { type: 'boolean' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('pull needs exactly one image reference');
    const ref = parseReference(args.positionals[0]);
    const quiet = args.values.quiet === true || args.values.json === true;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      return await withClient(ctx, async (client) => {
        const { image, downloaded } = await pullWithProgress(client, ref, ctx.stdout, {
          platform: args.values.platform,
          quiet,
          signal: stop.signal,
        });
        if (stop.signal.aborted) {
          ctx.stderr.write('gantry: pull cancelled\n');
          return 130;
        }
        if (!image) throw new Error('the daemon ended the pull without a result');
        if (args.values.json) {
          writeJson(ctx.stdout, image);
        } else {
          if (!quiet) writePullStatus(ctx.stdout, image, downloaded);
          ctx.stdout.write(`${image.name}\n`);
        }
        return 0;
      });
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
