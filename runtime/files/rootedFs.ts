/**
 * File operations on a tree seen as a container sees it: every path is
 * resolved inside the root by resolve.ts, and every final step works on a
 * descriptor or on (parent descriptor, name) with no link followed — so a
 * container changing its files meanwhile cannot steer us onto the host.
 * Design: docs/files.md.
 */
import { randomBytes } from 'node:crypto';
import { constants as C, createReadStream, lstatSync, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import { fileError } from './errors';
import { emptyStatColumns, listingEntries, type DirectoryListing, type ListedLink, type ListingDetail } from './listing';
import { components, fdPath, O_PATH, openRoot, requireEntry, resolveInRoot, type Resolved } from './resolve';

export type FileType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileInfo {
  readonly name: string;
  readonly type: FileType;
  /** For a symlink that was not followed: what it points at (as written). */
  readonly linkTarget?: string;
  /** For a symlink in a directory listing: the type of what it leads to inside the root (undefined: nowhere). */
  readonly targetType?: FileType;
  readonly size: number;
  /** Permission bits (and set-id/sticky), no type bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** Who new files belong to: the container's user, not gantryd's. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export interface WriteOptions {
  /** Fail with AlreadyExists when the file exists. */
  readonly exclusive?: boolean;
  /** Fail with NotFound when it does not. */
  readonly mustExist?: boolean;
  /** For a new file (default 0644); a replaced file keeps its mode and owner. */
  readonly mode?: number;
  readonly owner?: Owner;
}

export interface ReadOptions {
  readonly start?: number;
  /** Inclusive, as fs.createReadStream. */
  readonly end?: number;
}

/** An open file's descriptor and a range of it (end inclusive; Infinity: to its end). */
export interface FileRange {
  readonly fd: number;
  readonly start: number;
  readonly end: number;
}

const PERMISSIONS = 0o7777;
/** Entries lstat'ed between two turns of the event loop when listing a directory. */
const LIST_SLICE = 1024;
/** Links resolved at once when listing (each is a walk from the root). */
const LINK_BATCH = 64;
/** Read-stream buffer size: one ReadFile message per read (runtime/api/services/files.ts). */
const READ_CHUNK = 1024 * 1024;

function typeOf(st: Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

function lstatOrNot(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * lstat of each of `names` (from readdir: no '/' in them) in the directory
 * `dir`, each a one-component lookup from that very directory — what
 * fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW) does; Node has no fstatat. The
 * working directory is moved onto the descriptor (its /proc link leads to
 * exactly the directory we hold, wherever it has been moved meanwhile) for
 * this synchronous loop only, and back: no other code of gantryd runs in
 * between, and gantryd uses no relative paths (daemon/paths.ts resolves
 * them all). A `/proc/self/fd/N/NAME` per entry walks five components per
 * lookup and took ~2.4 × as long (docs/performance.md, files).
 */
function lstatIn(dir: FileHandle, names: readonly string[]): (Stats | undefined)[] {
  let home = '/';
  try {
    home = process.cwd();
  } catch {
    // our working directory was removed: come back to /
  }
  process.chdir(fdPath(dir));
  try {
    return names.map(lstatOrNot);
  } finally {
    try {
      process.chdir(home);
    } catch {
      process.chdir('/');
    }
  }
}

function kindName(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function info(name: string, st: Stats, linkTarget?: string): FileInfo {
  return {
    name,
    type: typeOf(st),
    ...(linkTarget !== undefined ? { linkTarget } : {}),
    size: st.size,
    mode: st.mode & PERMISSIONS,
    uid: st.uid,
    gid: st.gid,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
  };
}

/**
 * A full listing: readdir, then one lstat per entry from the verified
 * directory, back to back (a promise per entry cost more than the syscall,
 * docs/performance.md, files), in slices so other calls are served between
 * them; each lstat goes straight into the columns (no object per entry).
 * An entry removed while we list is simply not listed.
 */
async function statListing(dir: FileHandle): Promise<DirectoryListing & { links: ListedLink[] }> {
  const all = await fsp.readdir(fdPath(dir));
  const names: string[] = [];
  const types: FileType[] = [];
  const stats = emptyStatColumns();
  for (let at = 0; at < all.length; at += LIST_SLICE) {
    if (at) await new Promise<void>((resolve) => setImmediate(resolve));
    const slice = all.slice(at, at + LIST_SLICE);
    const sts = lstatIn(dir, slice);
    for (let i = 0; i < slice.length; i++) {
      const st = sts[i];
      if (!st) continue;
      names.push(slice[i]);
      types.push(typeOf(st));
      stats.sizes.push(st.size);
      stats.modes.push(st.mode & PERMISSIONS);
      stats.uids.push(st.uid);
      stats.gids.push(st.gid);
      stats.mtimeMs.push(st.mtimeMs);
      stats.ctimeMs.push(st.ctimeMs);
    }
  }
  return { names, types, stats, links: [] };
}

/**
 * A names-and-types listing: the types readdir gives (d_type); Node lstats
 * an entry whose filesystem gives none, through the same directory
 * descriptor path (one name, no link followed).
 */
async function typeListing(dir: FileHandle): Promise<DirectoryListing & { links: ListedLink[] }> {
  const entries = await fsp.readdir(fdPath(dir), { withFileTypes: true });
  const n = entries.length;
  const names = new Array<string>(n);
  const types = new Array<FileType>(n);
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    names[i] = e.name;
    types[i] = e.isFile() ? 'file' : e.isDirectory() ? 'directory' : e.isSymbolicLink() ? 'symlink' : 'other';
  }
  return { names, types, links: [] };
}

export class RootedFs {
  private constructor(
    private readonly root: FileHandle,
    /** For messages only. */
    readonly description: string,
  ) {}

  /** `rootPath` is trusted (gantryd chose it); nothing below it is. */
  static async open(rootPath: string, description = rootPath): Promise<RootedFs> {
    return new RootedFs(await openRoot(rootPath), description);
  }

  close(): Promise<void> {
    return this.root.close();
  }

  private async with<T>(path: string, follow: boolean, what: string, fn: (r: Resolved) => Promise<T>): Promise<T> {
    const r = await resolveInRoot(this.root, path, follow);
    try {
      return await fn(r);
    } catch (e) {
      throw fileError(e, r.path, what);
    } finally {
      await r.release();
    }
  }

  /** Runs `fn` on a path resolved inside the root, its handles held until it is done (archive.ts). */
  resolved<T>(path: string, follow: boolean, what: string, fn: (r: Resolved) => Promise<T>): Promise<T> {
    return this.with(path, follow, what, fn);
  }

  /** stat (`follow`, the default) or lstat of a path. */
  async stat(path: string, follow = true): Promise<FileInfo> {
    return (await this.lookup(path, follow)).info;
  }

  /** stat or lstat, and where the path led inside the root (one resolution for both). */
  lookup(path: string, follow = true): Promise<{ info: FileInfo; realPath: string }> {
    return this.with(path, follow, 'cannot stat', async (r) => {
      if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const st = await r.handle.stat();
      const target = st.isSymbolicLink() && r.parent ? await fsp.readlink(fdPath(r.parent, r.name)) : undefined;
      return { info: info(r.name ?? '/', st, target), realPath: r.realPath };
    });
  }

  /** The entries of a directory, each lstat'ed (links not followed; their targets given). */
  async readDirectory(path: string): Promise<FileInfo[]> {
    return listingEntries(await this.listDirectory(path, 'full'));
  }

  /**
   * A directory's entries as columns (listing.ts): with 'full', each entry
   * lstat'ed; with 'types', the types readdir gives. Either way a link's
   * target is read and where it leads resolved inside the root.
   */
  listDirectory(path: string, detail: ListingDetail): Promise<DirectoryListing> {
    return this.with(path, true, 'cannot list', async (r) => {
      if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const dir = r.handle;
      const listing = detail === 'full' ? await statListing(dir) : await typeListing(dir);
      const { names, links } = listing;
      // Where each link leads, resolved inside the root like any path (so
      // a link to /usr/bin can be shown as a folder).
      const link = async (index: number): Promise<ListedLink> => {
        const name = names[index];
        const target = await fsp.readlink(fdPath(dir, name)).catch(() => '');
        const led = await this.stat(`${r.realPath}/${name}`, true).catch(() => undefined);
        return { index, target, ...(led ? { targetType: led.type } : {}) };
      };
      const indexes = listing.types.flatMap((t, i) => (t === 'symlink' ? [i] : []));
      for (let at = 0; at < indexes.length; at += LINK_BATCH)
        links.push(...(await Promise.all(indexes.slice(at, at + LINK_BATCH).map(link))));
      return listing;
    });
  }

  /**
   * A regular file's content as a stream (a range with start/end). The
   * checked inode itself is reopened, so a swap after the check is not read.
   * `range` is the same open file and range, for a reader that reads the
   * descriptor itself instead of the stream (the raw socket); it stays open
   * until the stream is destroyed, which the caller does either way.
   */
  async readFile(path: string, opts: ReadOptions = {}): Promise<{ info: FileInfo; stream: Readable; range: FileRange }> {
    return this.with(path, true, 'cannot read', async (r) => {
      if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const st = await r.handle.stat();
      if (!st.isFile()) throw failedPrecondition(`cannot read ${r.path}: ${kindName(st)}; only regular files can be read`);
      // Through the descriptor's own /proc link (so no O_NOFOLLOW: that link is the one to follow).
      const fh = await fsp.open(fdPath(r.handle), C.O_RDONLY);
      const stream = createReadStream('', { fd: fh, start: opts.start, end: opts.end, autoClose: true, highWaterMark: READ_CHUNK });
      return { info: info(r.name ?? '/', st), stream, range: { fd: fh.fd, start: opts.start ?? 0, end: opts.end ?? Infinity } };
    });
  }

  /**
   * A regular file or a directory (`directory`), links followed, opened
   * anew from the checked inode (as readFile) for local access: the caller
   * names the descriptor to a client on this machine and closes it
   * (containerFiles.ts openLocal). `dev`/`ino` as bigints: an inode number
   * may not fit a double.
   */
  openLocal(path: string, directory: boolean): Promise<{ info: FileInfo; handle: FileHandle; dev: bigint; ino: bigint }> {
    return this.with(path, true, 'cannot open', async (r) => {
      if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const st = await r.handle.stat();
      if (directory && !st.isDirectory()) throw failedPrecondition(`cannot list ${r.path}: not a directory`);
      if (!directory && !st.isFile()) throw failedPrecondition(`cannot read ${r.path}: ${kindName(st)}; only regular files can be read`);
      const handle = await fsp.open(fdPath(r.handle), C.O_RDONLY | (directory ? C.O_DIRECTORY : 0));
      try {
        const ids = await handle.stat({ bigint: true });
        return { info: info(r.name ?? '/', st), handle, dev: ids.dev, ino: ids.ino };
      } catch (e) {
        await handle.close();
        throw e;
      }
    });
  }

  /** readFile into memory (small files). */
  async readFileBytes(path: string): Promise<Buffer> {
    const { stream } = await this.readFile(path);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * Writes a file atomically: a temporary file beside it, then a rename
   * over it. A file it replaces keeps its mode and owner; a symlink is
   * written through (to its target, inside the root).
   */
  writeFile(path: string, data: Buffer | Readable, opts: WriteOptions = {}): Promise<FileInfo> {
    return this.with(path, true, 'cannot write', async (r) => {
      const { parent, name } = requireEntry(r, 'write');
      let mode = opts.mode ?? 0o644;
      let owner = opts.owner;
      if (r.handle) {
        if (opts.exclusive) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        const st = await r.handle.stat();
        if (!st.isFile()) throw failedPrecondition(`cannot write ${r.path}: ${kindName(st)}`);
        mode = st.mode & PERMISSIONS;
        owner = { uid: st.uid, gid: st.gid };
      } else if (opts.mustExist) {
        throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      }
      const temp = `.gantry-${randomBytes(6).toString('hex')}.tmp`;
      const fh = await fsp.open(fdPath(parent, temp), C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
      try {
        try {
          if (Buffer.isBuffer(data)) await fh.writeFile(data);
          else for await (const chunk of data) await fh.write(chunk as Buffer);
          if (owner) await fh.chown(owner.uid, owner.gid);
          // After chown, which clears set-id bits.
          await fh.chmod(mode);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fsp.rename(fdPath(parent, temp), fdPath(parent, name));
      } catch (e) {
        await fsp.unlink(fdPath(parent, temp)).catch(() => undefined);
        throw e;
      }
      return info(name, await fsp.lstat(fdPath(parent, name)));
    });
  }

  /** mkdir; with `recursive`, the missing parents too (each owned by `owner`). */
  async createDirectory(path: string, opts: { recursive?: boolean; mode?: number; owner?: Owner } = {}): Promise<void> {
    if (opts.recursive) {
      const parts = components(path);
      for (let i = 1; i <= parts.length; i++) {
        await this.createDirectory('/' + parts.slice(0, i).join('/'), { ...opts, recursive: false }).catch((e: unknown) => {
          if ((e as { kind?: string }).kind !== 'AlreadyExists') throw e;
        });
      }
      return;
    }
    await this.with(path, false, 'cannot create directory', async (r) => {
      const { parent, name } = requireEntry(r, 'create');
      if (r.handle) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
      const p = fdPath(parent, name);
      await fsp.mkdir(p, opts.mode ?? 0o755);
      if (opts.owner) await fsp.lchown(p, opts.owner.uid, opts.owner.gid);
    });
  }

  /** Removes a file, a link (not its target) or, with `recursive`, a whole directory. */
  delete(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return this.with(path, false, 'cannot delete', async (r) => {
      const { parent, name } = requireEntry(r, 'delete');
      if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const st = await r.handle.stat();
      if (!st.isDirectory()) return fsp.unlink(fdPath(parent, name));
      if (opts.recursive) await emptyDirectory(r.handle);
      await fsp.rmdir(fdPath(parent, name));
    });
  }

  /** Renames (moves) an entry; links are moved, not followed. */
  async rename(from: string, to: string, opts: { overwrite?: boolean } = {}): Promise<void> {
    const src = await resolveInRoot(this.root, from, false);
    try {
      const s = requireEntry(src, 'rename');
      if (!src.handle) throw fileError(Object.assign(new Error(), { code: 'ENOENT' }), src.path, 'cannot rename');
      const dst = await resolveInRoot(this.root, to, false);
      try {
        const d = requireEntry(dst, 'rename onto');
        if (dst.handle && !opts.overwrite) throw fileError(Object.assign(new Error(), { code: 'EEXIST' }), dst.path, 'cannot rename onto');
        await fsp.rename(fdPath(s.parent, s.name), fdPath(d.parent, d.name)).catch((e: unknown) => {
          throw fileError(e, `${src.path} to ${dst.path}`, 'cannot rename');
        });
      } finally {
        await dst.release();
      }
    } finally {
      await src.release();
    }
  }

  /** Where a path leads inside the root (links followed), canonical. */
  async realPath(path: string): Promise<string> {
    const r = await resolveInRoot(this.root, path, true);
    await r.release();
    return r.realPath;
  }
}

/**
 * Deletes what a directory holds, through descriptors: a subdirectory is
 * entered only as the directory it is when opened (O_NOFOLLOW|O_DIRECTORY),
 * and names are unlinked from the descriptor of their own directory — a
 * directory swapped for a link meanwhile is unlinked as a link, never
 * followed.
 */
export async function emptyDirectory(dir: FileHandle): Promise<void> {
  for (const name of await fsp.readdir(fdPath(dir))) {
    const p = fdPath(dir, name);
    let sub: FileHandle | undefined;
    try {
      sub = await fsp.open(p, O_PATH | C.O_NOFOLLOW | C.O_DIRECTORY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code !== 'ENOTDIR' && code !== 'ELOOP') throw e;
    }
    if (!sub) {
      await fsp.unlink(p).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      continue;
    }
    try {
      await emptyDirectory(sub);
    } finally {
      await sub.close();
    }
    await fsp.rmdir(p);
  }
}

/** Paths in requests must be absolute container paths. */
export function checkContainerPath(path: string): string {
  if (!path.startsWith('/')) throw invalidArgument(`path ${JSON.stringify(path)} must be absolute (a path inside the container)`);
  if (path.includes('\0')) throw invalidArgument('path contains a NUL byte');
  return path;
}
