/** `gantry diff`, `commit`, `export` and `import`: a container's changes and images made of them (docs/transfer.md, docs/files.md). */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChangeKind } from '../../api/gen/gantry/v1/changes';
import { validateConfigChanges } from '../../options';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { writeJson } from '../output';
import { withClient } from '../withClient';

const LETTER: Record<number, string> = {
  [ChangeKind.CHANGE_KIND_ADDED]: 'A',
  [ChangeKind.CHANGE_KIND_MODIFIED]: 'C',
  [ChangeKind.CHANGE_KIND_DELETED]: 'D',
};

export const diffCommand: Command = {
  name: 'diff',
  summary: "list what a container changed in its image's files",
  usage: `Usage: gantry diff [options] CONTAINER

List the files and directories the container added (A), changed (C) or
deleted (D) against its image, as 'docker diff' does. Running or stopped.

Options:
  --json   print the changes as JSON
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { json: { type: 'boolean' } }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('diff needs exactly one container');
    return withClient(ctx, async (client) => {
      const changes = await client.containers.diff(args.positionals[0]);
      if (args.values.json) {
        writeJson(
          ctx.stdout,
          changes.map((c) => ({ Kind: LETTER[c.kind] ?? '?', Path: c.path })),
        );
        return 0;
      }
      ctx.stdout.write(changes.map((c) => `${LETTER[c.kind] ?? '?'} ${c.path}\n`).join(''));
      return 0;
    });
  },
};

/** Docker's `--pause=false` / `-p=false` spelling for a boolean that defaults to true. */
function pauseFlag(argv: string[]): { argv: string[]; pause: boolean } {
  let pause = true;
  const rest: string[] = [];
  for (const a of argv) {
    const m = /^(?:--pause|-p)(?:=(true|false))?$/.exec(a);
    if (m) pause = m[1] !== 'false';
    else rest.push(a);
  }
  return { argv: rest, pause };
}

export const commitCommand: Command = {
  name: 'commit',
  summary: "make a new image of a container's changes",
  usage: `Usage: gantry commit [options] CONTAINER [REPOSITORY[:TAG]]

Make a new image of the container's changes: one layer on top of its
image, with the container's config and a history entry. Without a name
the image is untagged. Prints the new image's ID.

Options:
  -a, --author TEXT     author ("Name <email>")
  -m, --message TEXT    commit message (the history entry's comment)
  -c, --change INSTR    apply a Dockerfile instruction to the config (CMD,
                        ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR,
                        VOLUME, STOPSIGNAL); repeatable
  -p, --pause=BOOL      pause a running container while its files are read
                        (default true)
`,
  async run(ctx, rawArgv) {
    const { argv, pause } = pauseFlag(rawArgv);
    const args = parseCommandArgs(
      this,
      argv,
      {
        author: { type: 'string', short: 'a' },
        message: { type: 'string', short: 'm' },
        change: { type: 'string', short: 'c', multiple: true },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length < 1 || args.positionals.length > 2) throw new UsageError('commit needs a container and at most one name');
    const changes = args.values.change ?? [];
    try {
      validateConfigChanges(changes);
    } catch (e) {
      throw new UsageError(`commit: ${(e as Error).message}`);
    }
    return withClient(ctx, async (client) => {
      const image = await client.images.commit({
        container: args.positionals[0],
        reference: args.positionals[1] ?? '',
        comment: args.values.message ?? '',
        author: args.values.author ?? '',
        changes,
        noPause: !pause,
      });
      ctx.stdout.write(`${image.id}\n`);
      return 0;
    });
  },
};

export const exportCommand: Command = {
  name: 'export',
  summary: "write a container's filesystem to a tar archive",
  usage: `Usage: gantry export [options] CONTAINER

Write the container's root filesystem, flattened (no layers, no whiteouts,
no volumes), as a tar archive: to stdout when it is not a terminal, or to
a file.

Options:
  -o, --output FILE   write to FILE instead of stdout
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { output: { type: 'string', short: 'o' } }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('export needs exactly one container');
    const file = args.values.output;
    if (!file && (ctx.stdout as { isTTY?: boolean }).isTTY) {
      throw new UsageError('export: refusing to write a tar archive to a terminal; use -o FILE or redirect stdout');
    }
    return withClient(ctx, async (client) => {
      const tar = Readable.from(client.containers.export(args.positionals[0]));
      if (!file) {
        await pipeline(tar, ctx.stdout, { end: false });
        return 0;
      }
      // Written beside the target and renamed: a failed export leaves no half archive under FILE.
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        await pipeline(tar, fs.createWriteStream(tmp, { mode: 0o644 }));
        await fs.promises.rename(tmp, file);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true });
        throw e;
      }
      return 0;
    });
  },
};

export const importCommand: Command = {
  name: 'import',
  summary: 'make an image of a filesystem tar archive',
  usage: `Usage: gantry import [options] FILE|URL|- [REPOSITORY[:TAG]]

Make a one-layer image of a tar archive (plain, gzip or zstd): a file, an
http(s) URL the daemon fetches, or - for stdin. Prints the new image's ID.

Options:
  -c, --change INSTR     apply a Dockerfile instruction to the config (CMD,
                         ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR,
                         VOLUME, STOPSIGNAL); repeatable
  -m, --message TEXT     the history entry's comment
  --platform OS/ARCH     the image's platform (default: the daemon's)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        change: { type: 'string', short: 'c', multiple: true },
        message: { type: 'string', short: 'm' },
        platform: { type: 'string' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length < 1 || args.positionals.length > 2) throw new UsageError('import needs a source and at most one name');
    const changes = args.values.change ?? [];
    try {
      validateConfigChanges(changes);
    } catch (e) {
      throw new UsageError(`import: ${(e as Error).message}`);
    }
    const [source, reference = ''] = args.positionals;
    const isUrl = /^https?:\/\//i.test(source);
    if (source === '-' && process.stdin.isTTY) throw new UsageError('import: no archive on stdin (it is a terminal); redirect stdin');
    if (!isUrl && source !== '-') await fs.promises.access(source, fs.constants.R_OK);
    const start = {
      reference,
      changes,
      message: args.values.message ?? '',
      platform: args.values.platform ?? '',
      url: isUrl ? source : '',
    };
    return withClient(ctx, async (client) => {
      const tar = isUrl ? undefined : source === '-' ? process.stdin : fs.createReadStream(source);
      const image = await client.images.import(start, tar);
      ctx.stdout.write(`${image.id}\n`);
      return 0;
    });
  },
};
