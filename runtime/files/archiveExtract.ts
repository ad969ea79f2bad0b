/**
 * A tar stream extracted under a directory of a RootedFs, as Docker's
 * `PUT …/archive`, in two steps so that a refused archive writes nothing:
 *
 * 1. every entry is written into a fresh staging directory beside the
 *    destination's entries (same filesystem, so step 2 is renames). Names
 *    are checked as the layer unpacker checks them (`..`, absolute, NUL —
 *    runtime/unpack/paths.ts), device nodes are refused, and every parent is
 *    walked from the staging directory's descriptor with O_NOFOLLOW: a link
 *    in the archive (or one the container swaps in) is never gone through.
 * 2. once the whole stream is in, the staging tree is checked against the
 *    destination (a directory never replaced by a file nor a file by a
 *    directory, unless allowed) and moved in: an entry that is new is
 *    renamed, a directory that exists is merged into, a file is replaced.
 *
 * The destination itself is resolved inside the root like any path, so a
 * link in the container to `/etc` or `../../..` leads to the container's
 * own directory. Data is written as it arrives (the tar parser's
 * backpressure reaches the sender). Design: docs/files.md ("gantry cp").
 */
import { randomBytes } from 'node:crypto';
import { constants as C, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { failedPrecondition, invalidArgument, isGantryError } from '../errdefs/errdefs';
import { capLongHeaders, metaOf, type EntryHeader } from '../unpack/header';
import { baseOf, entryPath, parentOf, quoteName } from '../unpack/paths';
import { fileError } from './errors';
import { components, fdPath, O_PATH } from './resolve';
import { emptyDirectory, type Owner, type RootedFs } from './rootedFs';

export interface ExtractOptions {
  /**
   * Who what is written belongs to: an owner (the container's user),
   * `archive` (the tar's own uid/gid, `cp -a`), or undefined (whoever
   * extracts: the CLI writing on the host).
   */
  readonly owner?: Owner | 'archive';
  /** Let a file replace a directory and a directory a file. */
  readonly allowOverwriteDirWithFile?: boolean;
}

export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
}

/** An entry of tar-stream's extractor: its header and a stream of its data. */
type Entry = tar.Extract extends AsyncIterable<infer E> ? E : never;

const STAGING_PREFIX = '.gantry-cp-';

export async function extractArchive(fs: RootedFs, dir: string, archive: Readable, opts: ExtractOptions = {}): Promise<ExtractResult> {
  return fs.resolved(dir, true, 'cannot extract to', async (r) => {
    if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    if (!(await r.handle.stat()).isDirectory()) throw failedPrecondition(`extraction point ${r.path} is not a directory`);
    const dest = r.handle;
    const stagingName = `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`;
    await fsp.mkdir(fdPath(dest, stagingName), 0o700);
    let staging: FileHandle | undefined;
    try {
      staging = await fsp.open(fdPath(dest, stagingName), O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY);
      const stage = new Stage(staging, r.path, opts);
      const result = await stage.extract(archive);
      await merge(staging, dest, r.path === '/' ? '' : r.path, opts, true);
      await merge(staging, dest, r.path === '/' ? '' : r.path, opts, false);
      return result;
    } finally {
      // What was not moved (a refused archive: everything) goes.
      if (staging) {
        await emptyDirectory(staging).catch(() => undefined);
        await staging.close();
      }
      await fsp.rmdir(fdPath(dest, stagingName)).catch(() => undefined);
    }
  });
}

/** Writes entries into the staging directory. */
class Stage {
  private entries = 0;
  private bytes = 0;
  /** The last parent directory opened, by relative path (entries of one directory come together). */
  private cached?: { rel: string; handle: FileHandle };
  /** Directories' times, set once their content is in (children change them). */
  private readonly dirTimes: { rel: string; atime: number; mtime: number }[] = [];

  constructor(
    private readonly staging: FileHandle,
    /** The destination as the container sees it, for messages. */
    private readonly where: string,
    private readonly opts: ExtractOptions,
  ) {}

  async extract(archive: Readable): Promise<ExtractResult> {
    const extract = tar.extract();
    capLongHeaders(extract);
    archive.on('error', (e) => extract.destroy(e));
    archive.pipe(extract);
    try {
      for await (const entry of extract) {
        await this.entry(entry);
      }
      for (const t of this.dirTimes.reverse()) {
        const parent = await this.parent(parentOf(t.rel), false);
        await fsp.lutimes(fdPath(parent, baseOf(t.rel)), t.atime, t.mtime).catch(() => undefined);
      }
    } catch (e) {
      archive.unpipe(extract);
      archive.resume();
      extract.destroy();
      throw isGantryError(e) ? e : invalidArgument(`cannot extract the archive: ${(e as Error).message}`, e);
    } finally {
      await this.closeCached();
    }
    return { entries: this.entries, bytes: this.bytes };
  }

  private async entry(entry: Entry): Promise<void> {
    const h = entry.header;
    const rel = entryPath(h.name);
    const meta = metaOf(h as EntryHeader, h.name);
    const owner = this.opts.owner === 'archive' ? { uid: meta.uid, gid: meta.gid } : this.opts.owner;
    if (rel === '') {
      // The directory itself (`./`): it is the destination, which stays as it is.
      entry.resume();
      return;
    }
    const type = h.type ?? 'file';
    if (type === 'character-device' || type === 'block-device' || type === 'fifo') {
      throw invalidArgument(`entry ${quoteName(h.name)}: device nodes and named pipes cannot be copied in`);
    }
    const parent = await this.parent(parentOf(rel), true);
    const name = baseOf(rel);
    const at = fdPath(parent, name);
    const shown = `${this.where === '/' ? '' : this.where}/${rel}`;
    try {
      const existing = await fsp.lstat(at).catch(() => undefined);
      if (type === 'directory') {
        if (existing && !existing.isDirectory()) await fsp.unlink(at);
        if (!existing?.isDirectory()) await fsp.mkdir(at, 0o700);
        await this.finish(at, owner, meta.mode);
        this.dirTimes.push({ rel, atime: meta.atime, mtime: meta.mtime });
        entry.resume();
      } else {
        if (existing?.isDirectory()) await emptyAndRemove(parent, name);
        else if (existing) await fsp.unlink(at);
        if (type === 'file' || type === 'contiguous-file') {
          await this.file(entry, at, owner, meta);
        } else if (type === 'symlink') {
          await fsp.symlink(h.linkname ?? '', at);
          if (owner) await fsp.lchown(at, owner.uid, owner.gid);
          await fsp.lutimes(at, meta.atime, meta.mtime).catch(() => undefined);
          entry.resume();
        } else if (type === 'link') {
          const target = entryPath(h.linkname ?? '', 'hard link target');
          const tparent = await this.parent(parentOf(target), false).catch(() => undefined);
          if (!tparent || target === '')
            throw invalidArgument(`entry ${quoteName(h.name)}: hard link to ${quoteName(h.linkname ?? '')}, which is not in the archive`);
          await fsp.link(fdPath(tparent, baseOf(target)), at).catch((e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT')
              throw invalidArgument(`entry ${quoteName(h.name)}: hard link to ${quoteName(h.linkname ?? '')}, which is not in the archive`);
            throw e;
          });
          entry.resume();
        } else {
          throw invalidArgument(`entry ${quoteName(h.name)}: unsupported entry type ${type}`);
        }
      }
    } catch (e) {
      throw fileError(e, shown, 'cannot write');
    }
    this.entries++;
  }

  private async file(entry: Entry, at: string, owner: Owner | undefined, meta: { mode: number; atime: number; mtime: number }) {
    const fh = await fsp.open(at, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of entry) {
        const buf = chunk as Buffer;
        await fh.write(buf);
        this.bytes += buf.length;
      }
      if (owner) await fh.chown(owner.uid, owner.gid);
      // After chown, which clears set-id bits.
      await fh.chmod(meta.mode);
      await fh.utimes(meta.atime, meta.mtime);
    } finally {
      await fh.close();
    }
  }

  /** chown and chmod of a directory just made, through a descriptor of it (never a path a link could redirect). */
  private async finish(at: string, owner: Owner | undefined, mode: number): Promise<void> {
    const fh = await fsp.open(at, C.O_RDONLY | C.O_NOFOLLOW | C.O_DIRECTORY);
    try {
      if (owner) await fh.chown(owner.uid, owner.gid);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
  }

  /**
   * The staging directory's `rel`, walked from its descriptor with
   * O_NOFOLLOW (a link or a file on the way refuses the entry); missing
   * directories made when `create`.
   */
  private async parent(rel: string, create: boolean): Promise<FileHandle> {
    if (rel === '') return this.staging;
    if (this.cached?.rel === rel) return this.cached.handle;
    await this.closeCached();
    let dir = this.staging;
    const walked: string[] = [];
    try {
      for (const name of components(rel)) {
        walked.push(name);
        let next: FileHandle;
        try {
          next = await fsp.open(fdPath(dir, name), O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOTDIR' || code === 'ELOOP') {
            throw invalidArgument(
              `cannot extract under ${quoteName(walked.join('/'))}: it is not a directory in the archive (a link is never gone through)`,
            );
          }
          if (code !== 'ENOENT' || !create) throw e;
          await fsp.mkdir(fdPath(dir, name), 0o755);
          const owner = this.opts.owner === 'archive' ? undefined : this.opts.owner;
          if (owner) await fsp.lchown(fdPath(dir, name), owner.uid, owner.gid);
          next = await fsp.open(fdPath(dir, name), O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY);
        }
        if (dir !== this.staging) await dir.close();
        dir = next;
      }
    } catch (e) {
      if (dir !== this.staging) await dir.close();
      throw e;
    }
    this.cached = { rel, handle: dir };
    return dir;
  }

  private async closeCached(): Promise<void> {
    const c = this.cached;
    this.cached = undefined;
    if (c) await c.handle.close();
  }
}

async function emptyAndRemove(parent: FileHandle, name: string): Promise<void> {
  const h = await fsp.open(fdPath(parent, name), O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY);
  try {
    await emptyDirectory(h);
  } finally {
    await h.close();
  }
  await fsp.rmdir(fdPath(parent, name));
}

/**
 * Moves the staging tree into the destination (`check`: only finds the
 * conflicts, so a refused copy changes nothing). Every name is taken from
 * its directory's descriptor; rename follows no final link.
 */
async function merge(staging: FileHandle, dest: FileHandle, where: string, opts: ExtractOptions, check: boolean): Promise<void> {
  for (const name of await fsp.readdir(fdPath(staging))) {
    const src = fdPath(staging, name);
    const dst = fdPath(dest, name);
    const shown = `${where}/${name}`;
    const s = await fsp.lstat(src);
    const d = await fsp.lstat(dst).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw fileError(e, shown, 'cannot write');
    });
    if (d?.isDirectory() && s.isDirectory()) {
      const [sh, dh] = [
        await fsp.open(src, O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY),
        await fsp.open(dst, O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY).catch((e: unknown) => {
          throw fileError(e, shown, 'cannot write');
        }),
      ];
      try {
        // A directory that exists keeps its own mode and owner.
        await merge(sh, dh, shown, opts, check);
      } finally {
        await sh.close();
        await dh.close();
      }
      continue;
    }
    if (d && !opts.allowOverwriteDirWithFile) {
      if (d.isDirectory())
        throw failedPrecondition(`cannot overwrite directory ${JSON.stringify(shown)} with non-directory ${JSON.stringify(shown)}`);
      if (s.isDirectory())
        throw failedPrecondition(`cannot overwrite non-directory ${JSON.stringify(shown)} with directory ${JSON.stringify(shown)}`);
    }
    if (check) continue;
    try {
      if (d?.isDirectory()) await emptyAndRemove(dest, name);
      else if (d && s.isDirectory()) await fsp.unlink(dst);
      await fsp.rename(src, dst);
    } catch (e) {
      throw fileError(e, shown, 'cannot write');
    }
  }
}
