import { pushImage, type PushBlobProgress, type PushStarted } from '../../client';
import { familiarName, familiarString, parseReference } from '../../distribution/reference';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson } from '../output';
import { PullProgressView } from '../pullProgress';
import { withClient } from '../withClient';

export const pushCommand: Command = {
  name: 'push',
  summary: 'push an image to a registry',
  usage: `Usage: gantry push [options] NAME[:TAG]

Upload an image to the registry its name points at. Layers the registry
already has are skipped ("Layer already exists"), layers it has in another
repository are mounted, the rest uploaded (large ones in resumable chunks).
Credentials come from ~/.docker/config.json (see 'gantry login').

Options:
  -a, --all-tags                 push every tag of the repository NAME
  --platform OS/ARCH[/VARIANT]   push only that platform's manifest
  -q, --quiet                    print only the pushed names and digests
  --json                         print the pushed tags as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        'all-tags': { type: 'boolean', short: 'a' },
        platform: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        json: { type: 'boolean' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('push needs exactly one image name');
    const allTags = args.values['all-tags'] === true;
    const ref = parseReference(args.positionals[0]);
    // Docker pushes ":latest" for a bare name, and the repository with --all-tags.
    const reference = allTags ? ref.name : ref.toString();
    const quiet = args.values.quiet === true || args.values.json === true;
    const view = new PullProgressView(ctx.stdout, Boolean((ctx.stdout as { isTTY?: boolean }).isTTY));
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      return await withClient(ctx, async (client) => {
        const handlers = quiet
          ? {}
          : {
              onStarted: (s: PushStarted) => {
                const r = parseReference(s.name);
                ctx.stdout.write(`The push refers to repository [${familiarName(r)}]\n`);
              },
              onBlob: (b: PushBlobProgress) => view.updatePush(b),
            };
        const pushed = await pushImage(client, { reference, allTags, platform: args.values.platform }, handlers, stop.signal);
        if (stop.signal.aborted) {
          ctx.stderr.write('gantry: push cancelled\n');
          return 130;
        }
        if (args.values.json) {
          writeJson(ctx.stdout, pushed);
          return 0;
        }
        for (const p of pushed) {
          const r = parseReference(p.name);
          if (quiet) ctx.stdout.write(`${familiarString(r)}@${p.digest}\n`);
          else ctx.stdout.write(`${r.tag ?? r.digest}: digest: ${p.digest} size: ${p.size}\n`);
        }
        return 0;
      });
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
