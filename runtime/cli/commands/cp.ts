/**
 * `gantry cp`: files between a container (running or stopped) and the host,
 * as tar streams through the daemon's files service (GetArchive,
 * PutArchive) — nothing runs in the container. Docker's rules for where a
 * copy lands (dest existing or not, trailing `/` and `/.`) are
 * Docker's pkg/archive PrepareArchiveCopy, in `prepareCopy` below.
 * Design: docs/files.md ("gantry cp").
 */
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileType } from '../../api/gen/gantry/v1/files';
import type { RuntimeClient } from '../../client';
import { failedPrecondition, invalidArgument, isGantryError, notFound } from '../../errdefs/errdefs';
import { assertsDirectory, entryBaseName, extractArchive, packArchive, RootedFs } from '../../files/index';
import { formatSize } from '../../presentation/humanize';
import { parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { withClient } from '../withClient';

const USAGE = `Usage: gantry cp [options] CONTAINER:SRC_PATH DEST_PATH|-
       gantry cp [options] SRC_PATH|- CONTAINER:DEST_PATH

Copy files and folders between a container (running or stopped) and the
host. The daemon reads and writes the container's files itself: no shell or
tar is needed in the image. '-' as DEST_PATH writes a tar archive to stdout;
'-' as SRC_PATH extracts a tar archive from stdin into the directory
DEST_PATH. A container path is absolute (relative paths start at /).

  SRC ends in /.     the content of the directory is copied, not the directory
  DEST ends in /     it must be a directory (copying a file to a missing one fails)
  DEST exists as a directory: the source is copied into it; else it is
  created (or, for a file, replaced) with the source's content.

Options:
  -a, --archive       keep the archive's uid/gid (default: what is written
                      into the container belongs to the container's user)
  -L, --follow-link   follow a symbolic link given as SRC_PATH
  -q, --quiet         do not report what was copied
`;

export const cpCommand: Command = {
  name: 'cp',
  summary: 'copy files between a container and the host',
  usage: USAGE,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        archive: { type: 'boolean', short: 'a' },
        'follow-link': { type: 'boolean', short: 'L' },
        quiet: { type: 'boolean', short: 'q' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    if (args.positionals.length !== 2) throw new UsageError('cp needs a source and a destination');
    const [srcArg, dstArg] = args.positionals;
    if (srcArg === '') throw new UsageError('cp: source can not be empty');
    if (dstArg === '') throw new UsageError('cp: destination can not be empty');
    const src = splitCpArg(srcArg);
    const dst = splitCpArg(dstArg);
    if (src.container !== undefined && dst.container !== undefined) throw new UsageError('cp: copying between containers is not supported');
    if (src.container === undefined && dst.container === undefined) throw new UsageError('cp: must specify at least one container source');
    const opts = { archive: !!args.values.archive, follow: !!args.values['follow-link'], quiet: !!args.values.quiet };
    return withClient(ctx, async (client) => {
      if (src.container !== undefined) await fromContainer(ctx, client, src.container, src.path, dst.path, opts);
      else await toContainer(ctx, client, src.path, dst.container!, dst.path, opts);
      return 0;
    });
  },
};

interface CpOptions {
  readonly archive: boolean;
  readonly follow: boolean;
  readonly quiet: boolean;
}

/** Docker's splitCpArg: `CONTAINER:PATH`, unless the argument is an absolute or `.`-led local path. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (arg.startsWith('/')) return { path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { path: arg };
  const path = arg.slice(i + 1);
  // Relative container paths start at the container's root (as Docker's).
  return { container: arg.slice(0, i), path: path.startsWith('/') ? path : `/${path}` };
}

/** Where a copy's destination stands. */
export interface CopyDestination {
  readonly path: string;
  readonly exists: boolean;
  readonly isDir: boolean;
}

/**
 * Docker's PrepareArchiveCopy: the directory to extract under and the name
 * the source's top entry takes there.
 */
export function prepareCopy(srcIsDir: boolean, srcBase: string, dst: CopyDestination): { dir: string; name: string } {
  const { dir: parent, base } = splitDirEntry(dst.path);
  if (dst.exists && dst.isDir) return { dir: dst.path, name: srcBase };
  if (dst.exists && srcIsDir) throw failedPrecondition('cannot copy directory');
  if (dst.exists || srcIsDir) return { dir: parent, name: base };
  if (assertsDirectory(dst.path)) throw notFound('no such directory');
  return { dir: parent, name: base };
}

/** Docker's SplitPathDirEntry: `a/b/` → (a, b); `a/b/.` → (a/b, .). */
function splitDirEntry(path: string): { dir: string; base: string } {
  const posix = nodePath.posix;
  const clean = posix.normalize(path).replace(/(.)\/+$/, '$1');
  if (path.endsWith('/.') || path === '.') return { dir: clean.replace(/\/\.$/, '') || '/', base: '.' };
  return { dir: posix.dirname(clean), base: posix.basename(clean) };
}

async function fromContainer(
  ctx: CommandContext,
  client: RuntimeClient,
  container: string,
  srcPath: string,
  dstPath: string,
  opts: CpOptions,
) {
  const target = { container };
  const stat = await client.files.stat(target, srcPath, { noFollow: !opts.follow }).catch((e: unknown) => {
    throw isGantryError(e) && e.kind === 'NotFound' ? notFound(`could not find the file ${srcPath} in container ${container}`, e) : e;
  });
  const srcIsDir = stat.info.type === FileType.FILE_TYPE_DIRECTORY;
  if (assertsDirectory(srcPath) && !srcIsDir) throw failedPrecondition(`cannot copy ${container}:${srcPath}: not a directory`);
  const srcBase = entryBaseName(srcPath);
  if (dstPath === '-') {
    const chunks = client.files.getArchive(target, srcPath, { followLink: opts.follow });
    await pipeline(Readable.from(dataOf(chunks)), ctx.stdout, { end: false });
    return;
  }
  const dst = await localDestination(dstPath);
  const { dir, name } = prepareCopy(srcIsDir, srcBase, dst);
  let bytes = 0;
  const counted = async function* () {
    for await (const data of dataOf(client.files.getArchive(target, srcPath, { followLink: opts.follow, name }))) {
      bytes += data.length;
      yield data;
    }
  };
  // On the host the copy belongs to whoever runs gantry (Docker's cp does not chown there either).
  const fs = await RootedFs.open(dir);
  try {
    await extractArchive(fs, '/', Readable.from(counted()), {});
  } finally {
    await fs.close();
  }
  if (!opts.quiet) ctx.stderr.write(`Successfully copied ${formatSize(bytes)} to ${dstPath}\n`);
}

async function toContainer(
  ctx: CommandContext,
  client: RuntimeClient,
  srcPath: string,
  container: string,
  dstPath: string,
  opts: CpOptions,
) {
  const target = { container };
  const dst = await containerDestination(client, container, dstPath);
  const put = async (dir: string, tar: AsyncIterable<Uint8Array>) => {
    let bytes = 0;
    const counted = async function* () {
      for await (const data of tar) {
        bytes += data.length;
        yield data;
      }
    };
    await client.files.putArchive(target, dir, counted(), { copyUidGid: opts.archive }).catch((e: unknown) => {
      throw isGantryError(e) && e.kind === 'NotFound' && /cannot extract to/.test(e.message)
        ? notFound(`could not find the file ${dir} in container ${container}`, e)
        : e;
    });
    if (!opts.quiet) ctx.stderr.write(`Successfully copied ${formatSize(bytes)} to ${container}:${dstPath}\n`);
  };
  if (srcPath === '-') {
    if (!dst.isDir) throw failedPrecondition(`destination "${container}:${dstPath}" must be a directory`);
    if (process.stdin.isTTY) throw new UsageError('cp: no archive on stdin (it is a terminal)');
    await put(dst.path, process.stdin);
    return;
  }
  // The source on the host: a link given with -L is followed, its name kept.
  const abs = nodePath.resolve(srcPath) + (srcPath.endsWith('/.') ? '/.' : '');
  const st = await (opts.follow ? fsp.stat(srcPath) : fsp.lstat(srcPath)).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT'
      ? notFound(`${srcPath}: no such file or directory`, e)
      : e.code === 'ENOTDIR'
        ? failedPrecondition(`${srcPath}: not a directory`, e)
        : e;
  });
  const srcBase = entryBaseName(abs);
  let packed = splitDirEntry(abs);
  if (opts.follow && (await fsp.lstat(srcPath)).isSymbolicLink()) packed = splitDirEntry(await fsp.realpath(srcPath));
  const { dir, name } = prepareCopy(st.isDirectory(), srcBase, dst);
  const fs = await RootedFs.open(packed.dir);
  try {
    await packArchive(fs, packed.base === '.' ? '/.' : `/${packed.base}`, { name }, (_info, tar) => put(dir, tar));
  } finally {
    await fs.close();
  }
}

/** Docker's CopyInfoDestinationPath on the host: links followed; a missing path's parent must be a directory. */
async function localDestination(path: string): Promise<CopyDestination> {
  const st = await fsp.stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOTDIR') throw failedPrecondition(`${path}: not a directory`, e);
    if (e.code !== 'ENOENT') throw e;
    return undefined;
  });
  if (st) return { path, exists: true, isDir: st.isDirectory() };
  const parent = splitDirEntry(path).dir;
  const pst = await fsp.stat(parent).catch(() => undefined);
  if (!pst) throw notFound(`${parent}: no such file or directory`);
  if (!pst.isDirectory()) throw failedPrecondition(`${parent}: not a directory`);
  return { path, exists: false, isDir: false };
}

/**
 * The destination in the container, links followed inside it: a link to a
 * file (`/etc/shadow`) names that file, so the copy replaces it rather than
 * the link (as Docker's cp).
 */
async function containerDestination(client: RuntimeClient, container: string, path: string): Promise<CopyDestination> {
  const target = { container };
  const missing = (e: unknown) => isGantryError(e) && (e.kind === 'NotFound' || e.kind === 'FailedPrecondition');
  let stat;
  try {
    stat = await client.files.stat(target, path, { noFollow: true });
    // A link names where it leads, even when nothing is there yet.
    if (stat.info.type === FileType.FILE_TYPE_SYMLINK) {
      const real = stat.realPath;
      stat = await client.files.stat(target, real).catch((e: unknown) => {
        if (missing(e)) return { info: undefined, realPath: real };
        throw e;
      });
      if (!stat.info) return { path: real, exists: false, isDir: false };
    }
  } catch (e) {
    if (missing(e)) return { path, exists: false, isDir: false };
    throw e;
  }
  const type = stat.info.type;
  const isDir = type === FileType.FILE_TYPE_DIRECTORY;
  // `file/` is no directory: as a missing one (Docker's stat fails there too).
  if (assertsDirectory(path) && !isDir) return { path, exists: false, isDir: false };
  if (!isDir && type !== FileType.FILE_TYPE_FILE) {
    throw invalidArgument(`destination "${container}:${path}" must be a directory or a regular file`);
  }
  return { path: stat.realPath, exists: true, isDir };
}

async function* dataOf(chunks: AsyncIterable<{ data: Uint8Array }>): AsyncGenerator<Buffer> {
  for await (const c of chunks) if (c.data.length) yield Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
}
