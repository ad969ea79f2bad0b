import type { ImageSummary } from '../../client';
import { parseReference } from '../../distribution/reference';
import { displayName, displayRepository, formatAgo, formatSize, shortId } from '../../presentation';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson, writeTable } from '../output';
import { withClient } from '../withClient';
import { inspectAll } from './inspect';
import { INSPECT_OPTIONS, INSPECT_OPTIONS_USAGE, readFormat, writeRecords } from '../records';
import { IMAGES_DEFAULT_TABLE, IMAGES_DIGESTS_TABLE, IMAGES_FIELD_HEADERS, imageRecord } from '../listRecords';

export const imagesCommand: Command = {
  name: 'images',
  summary: 'list images',
  usage: `Usage: gantry images [options] [REPOSITORY[:TAG]]

List the images the daemon holds, newest first.

Options:
  -q, --quiet     only image IDs
  --digests       show the pulled manifest digest
  --no-trunc      full image IDs
  --json          the records as a JSON array
  --format FORMAT a Go template per image ({{.Repository}}:{{.Tag}}), 'table …' for
                  aligned columns with a header, or json (one object per line); fields as
                  Docker's: .ID .Repository .Tag .Digest .CreatedSince .CreatedAt .Size
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        quiet: { type: 'boolean', short: 'q' },
        digests: { type: 'boolean' },
        'no-trunc': { type: 'boolean' },
        json: { type: 'boolean' },
        format: { type: 'string' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    const format = args.values.format
      ? readFormat(args.values.format, args.values.digests ? IMAGES_DIGESTS_TABLE : IMAGES_DEFAULT_TABLE)
      : undefined;
    if (args.positionals.length > 1) throw new UsageError('images takes at most one repository filter');
    let images = await withClient(ctx, (c) => c.images.list());
    const filter = args.positionals[0];
    if (filter) {
      const ref = parseReference(filter);
      const explicitTag = /:[^/]+$/.test(filter);
      images = images.filter((i) => i.repository === ref.name && (!explicitTag || i.tag === ref.tag));
    }
    images.sort((a, b) => (b.created || '').localeCompare(a.created || '') || a.name.localeCompare(b.name));
    if (args.values.json) {
      writeJson(ctx.stdout, images);
      return 0;
    }
    const id = (i: ImageSummary) => (args.values['no-trunc'] ? i.id : shortId(i.id));
    if (args.values.quiet) {
      for (const i of new Set(images.map(id))) ctx.stdout.write(`${i}\n`);
      return 0;
    }
    if (format) {
      const now = Date.now();
      writeRecords(
        ctx,
        format,
        images.map((i) => imageRecord(i, args.values['no-trunc'] === true, now)),
        IMAGES_FIELD_HEADERS,
      );
      return 0;
    }
    const headers = ['REPOSITORY', 'TAG', ...(args.values.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
    const rows = images.map((i) => [
      displayRepository(i.repository),
      i.tag || '<none>',
      ...(args.values.digests ? [i.target?.digest ?? ''] : []),
      id(i),
      formatAgo(i.created || undefined),
      formatSize(i.size),
    ]);
    writeTable(ctx.stdout, headers, rows);
    return 0;
  },
};

export const imageInspectCommand: Command = {
  name: 'inspect',
  summary: 'show the details of images as JSON',
  usage: `Usage: gantry image inspect [options] IMAGE [IMAGE...]

Print each image's record, runtime config, layers and history as a JSON array.

Options:
${INSPECT_OPTIONS_USAGE}`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, INSPECT_OPTIONS, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('inspect needs at least one image');
    return inspectAll(ctx, args.positionals, 'image', args.values.format);
  },
};

export const tagCommand: Command = {
  name: 'tag',
  summary: 'give an image another name',
  usage: `Usage: gantry tag SOURCE_IMAGE TARGET_IMAGE[:TAG]
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 2) throw new UsageError('tag needs SOURCE_IMAGE and TARGET_IMAGE');
    const [source, target] = args.positionals;
    await withClient(ctx, (c) => c.images.tag(source, target));
    return 0;
  },
};

export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'remove images',
  usage: `Usage: gantry rmi [-f] IMAGE [IMAGE...]

Remove image names; content no longer referenced is deleted.

Options:
  -f, --force   remove even if containers use it or several names share the ID
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { force: { type: 'boolean', short: 'f' } }, ctx, true);
    if (!args) return 0;
    if (!args.positionals.length) throw new UsageError('rmi needs at least one image');
    let failed = 0;
    await withClient(ctx, async (c) => {
      for (const image of args.positionals) {
        try {
          const result = await c.images.remove(image, args.values.force === true);
          for (const name of result.untagged) ctx.stdout.write(`Untagged: ${displayName(name)}\n`);
          if (result.deletedBlobs) ctx.stdout.write(`Deleted: ${result.deletedBlobs} blobs, ${formatSize(result.reclaimedBytes)}\n`);
        } catch (e) {
          failed++;
          ctx.stderr.write(`gantry: ${(e as Error).message}\n`);
        }
      }
    });
    return failed ? 1 : 0;
  },
};

export const imagePruneCommand: Command = {
  name: 'prune',
  summary: 'remove untagged images',
  usage: `Usage: gantry image prune [-a] [-f]

Remove untagged images (with -a, every image no container uses) and the
content only they referenced.

Options:
  -a, --all     remove all unused images, not just untagged ones
  -f, --force   do not ask for confirmation (gantry never asks; accepted for Docker compatibility)
  --json        print the result as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        all: { type: 'boolean', short: 'a' },
        force: { type: 'boolean', short: 'f' },
        json: { type: 'boolean' },
      },
      ctx,
    );
    if (!args) return 0;
    const result = await withClient(ctx, (c) => c.images.prune(args.values.all === true));
    if (args.values.json) {
      writeJson(ctx.stdout, result);
      return 0;
    }
    if (result.untagged.length)
      ctx.stdout.write(`Deleted Images:\n${result.untagged.map((n) => `untagged: ${displayName(n)}\n`).join('')}\n`);
    ctx.stdout.write(`Total reclaimed space: ${formatSize(result.reclaimedBytes)}\n`);
    return 0;
  },
};
