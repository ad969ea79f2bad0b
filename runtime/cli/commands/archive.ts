/** `gantry save` and `gantry load`: image archives (docs/transfer.md). */
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { familiarString, parseReference } from '../../distribution/reference';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson } from '../output';
import { withClient } from '../withClient';

export const saveCommand: Command = {
  name: 'save',
  summary: 'write images to a tar archive',
  usage: `Usage: gantry save [options] IMAGE...

Write one or more images (names or IDs) to a tar archive, to stdout when
stdout is not a terminal and no -o is given.

Options:
  -o, --output FILE        write to FILE instead of stdout
  --format docker|oci      docker (default): the layout 'docker save' writes
                           (manifest.json and an OCI layout, read by docker
                           load, skopeo and containerd); oci: an OCI
                           image-layout tar only
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { output: { type: 'string', short: 'o' }, format: { type: 'string' } }, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('save needs at least one image');
    const format = args.values.format ?? 'docker';
    if (format !== 'docker' && format !== 'oci')
      throw new UsageError(`save: --format must be docker or oci, not ${JSON.stringify(format)}`);
    const file = args.values.output;
    if (!file && (ctx.stdout as { isTTY?: boolean }).isTTY) {
      throw new UsageError('save: refusing to write an archive to a terminal; use -o FILE or redirect stdout');
    }
    return withClient(ctx, async (client) => {
      const archive = Readable.from(client.images.save(args.positionals, format));
      if (!file) {
        await pipeline(archive, ctx.stdout, { end: false });
        return 0;
      }
      // Written beside the target and renamed: a failed save leaves no half archive under FILE.
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await pipeline(archive, fs.createWriteStream(tmp, { mode: 0o644 }));
        await fs.promises.rename(tmp, file);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true });
        throw e;
      }
      return 0;
    });
  },
};

export const loadCommand: Command = {
  name: 'load',
  summary: 'load images from a tar archive',
  usage: `Usage: gantry load [options]

Load the images of an archive made by 'gantry save', 'docker save', skopeo
(docker-archive: or oci-archive:) or containerd: plain, gzip or zstd. Every
blob is verified before any image is recorded; a damaged archive changes
nothing.

Options:
  -i, --input FILE   read from FILE instead of stdin
  -q, --quiet        print only the loaded names
  --json             print the loaded image records as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      { input: { type: 'string', short: 'i' }, quiet: { type: 'boolean', short: 'q' }, json: { type: 'boolean' } },
      ctx,
    );
    if (!args) return 0;
    const file = args.values.input;
    if (!file && process.stdin.isTTY) {
      throw new UsageError('load: no archive on stdin (it is a terminal); use -i FILE or redirect stdin');
    }
    // 1 MiB reads: one Load message each (the default 64 KiB made 16 times as many messages and writes).
    const input = file ? fs.createReadStream(file, { highWaterMark: 1024 * 1024 }) : process.stdin;
    if (file) await fs.promises.access(file, fs.constants.R_OK);
    return withClient(ctx, async (client) => {
      const images = await client.images.load(input);
      if (args.values.json) {
        writeJson(ctx.stdout, images);
        return 0;
      }
      for (const image of images) {
        const shown = familiarString(parseReference(image.name));
        ctx.stdout.write(args.values.quiet ? `${shown}\n` : `Loaded image: ${shown}\n`);
      }
      return 0;
    });
  },
};
