import { RuntimeClient } from '../../client/client';
import { BlobStatus, type ImageSummary } from '../../api/gen/gantry/v1/images';
import { getCredentials } from '../../distribution/credentials';
import { familiarName, familiarString, parseReference } from '../../distribution/reference';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson } from '../output';
import { PullProgressView } from '../pullProgress';
import { toWireAuth } from '../../client/client';

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
    const args = parseCommandArgs(this, argv, {
      platform: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      json: { type: 'boolean' },
    }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('pull needs exactly one image reference');
    const ref = parseReference(args.positionals[0]);
    const auth = await getCredentials(ref.domain);
    const quiet = args.values.quiet === true || args.values.json === true;
    const view = new PullProgressView(ctx.stdout, Boolean((ctx.stdout as { isTTY?: boolean }).isTTY));
    const client = RuntimeClient.forSocket(ctx.socket);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    let image: ImageSummary | undefined;
    let downloaded = false;
    try {
      if (!quiet) ctx.stdout.write(`${ref.tag ?? ref.digest}: Pulling from ${familiarName(ref)}\n`);
      const request = { reference: ref.toString(), platform: args.values.platform ?? '', auth: toWireAuth(auth) };
      for await (const message of client.images.pull(request, stop.signal)) {
        const kind = message.kind;
        if (kind?.$case === 'blob') {
          if (kind.value.status === BlobStatus.BLOB_STATUS_DONE) downloaded = true;
          if (!quiet) view.update(kind.value);
        } else if (kind?.$case === 'image') {
          image = kind.value;
        }
      }
      if (stop.signal.aborted) {
        ctx.stderr.write('gantry: pull cancelled\n');
        return 130;
      }
      if (!image) throw new Error('the daemon ended the pull without a result');
      if (args.values.json) {
        writeJson(ctx.stdout, image);
      } else {
        if (!quiet) {
          const shown = familiarString(parseReference(image.name));
          ctx.stdout.write(`Digest: ${image.target?.digest}\n`);
          ctx.stdout.write(downloaded ? `Status: Downloaded newer image for ${shown}\n` : `Status: Image is up to date for ${shown}\n`);
        }
        ctx.stdout.write(`${image.name}\n`);
      }
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      client.close();
    }
  },
};
