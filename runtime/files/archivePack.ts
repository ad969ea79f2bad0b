/**
 * A path of a RootedFs as a tar stream, as Docker's `GET …/archive`: the
 * top entry is named by the path's last component (or the name asked), a
 * directory is walked through descriptors (each child opened O_NOFOLLOW
 * from its parent's descriptor, each file reopened from the very inode that
 * was checked), links inside stay links, hard links stay hard links.
 * Streamed with backpressure: a file's bytes are read as the reader takes
 * them, never gathered. Design: docs/files.md ("gantry cp").
 */
import { constants as C, createReadStream, promises as fsp, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { failedPrecondition } from '../errdefs/errdefs';
import { fileError } from './errors';
import { cleanPath, fdPath, O_PATH } from './resolve';

type Header = Parameters<tar.Pack['entry']>[0];

/** Bytes read from a file at a time. */
const READ_CHUNK = 256 * 1024;
/** Entries with no data (directories, links, empty files) written before waiting for the reader. */
const UNAWAITED_ENTRIES = 256;
import type { FileInfo, RootedFs } from './rootedFs';

export interface PackOptions {
  /** Follow a final symlink (`cp -L`); the entry keeps the link's name. */
  readonly follow?: boolean;
  /** The top entry's name; default: the path's last component (`.` for `dir/.`). */
  readonly name?: string;
}

/** True when a path asserts a directory: a trailing `/` or `/.`. */
export function assertsDirectory(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.') || path === '.';
}

/** The name Docker gives a path's top entry: its last component, `.` kept (`dir/.` copies the content). */
export function entryBaseName(path: string): string {
  if (path.endsWith('/.') || path === '.') return '.';
  const clean = cleanPath(path);
  return clean === '/' ? '.' : clean.slice(clean.lastIndexOf('/') + 1);
}

/**
 * Packs `path` and hands `consume` its info and the tar stream; the tree
 * stays open until `consume` is done (or fails, which stops the walk).
 */
export async function packArchive(
  fs: RootedFs,
  path: string,
  opts: PackOptions,
  consume: (info: FileInfo, tar: Readable) => Promise<void>,
): Promise<void> {
  const display = cleanPath(path);
  await fs.resolved(path, opts.follow ?? false, 'cannot copy', async (r) => {
    if (!r.handle) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    const st = await r.handle.stat();
    if (assertsDirectory(path) && !st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    const name = opts.name || entryBaseName(path);
    const linkTarget = st.isSymbolicLink() && r.parent && r.name ? await fsp.readlink(fdPath(r.parent, r.name)) : undefined;
    const info: FileInfo = {
      name: r.name ?? '/',
      type: st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other',
      ...(linkTarget !== undefined ? { linkTarget } : {}),
      size: st.size,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
    };
    const pack = tar.pack();
    const walker = new Walker(pack, display);
    const writing = (async () => {
      await walker.entry(r.handle, st, name, linkTarget);
      await walker.settle();
    })().then(
      () => pack.finalize(),
      (e: unknown) => pack.destroy(e as Error),
    );
    const stream = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
    try {
      await consume(info, stream);
    } finally {
      walker.stopped = true;
      stream.destroy();
      pack.destroy();
      await writing;
    }
  });
}

class Walker {
  /** Files with more than one link, by inode: the first name packed (later ones become hard links). */
  private readonly links = new Map<string, string>();
  stopped = false;

  constructor(
    private readonly pack: tar.Pack,
    /** The asked path, for messages. */
    private readonly top: string,
  ) {}

  /** Packs one entry; `handle` (O_PATH|O_NOFOLLOW) for a directory or a file with data, `linkTarget` for a symlink. */
  async entry(handle: FileHandle | undefined, st: Stats, name: string, linkTarget: string | undefined): Promise<void> {
    if (this.stopped) throw new Error('archive stream closed');
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await this.add({ ...base, type: 'directory' });
      if (handle) await this.directory(handle, name);
    } else if (st.isSymbolicLink()) {
      await this.add({ ...base, type: 'symlink', linkname: linkTarget ?? '' });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.links.get(key) : undefined;
      if (first !== undefined) {
        await this.add({ ...base, type: 'link', linkname: first });
        return;
      }
      if (st.nlink > 1) this.links.set(key, name);
      if (handle && st.size > 0) await this.file(handle, st, base);
      else await this.add({ ...base, type: 'file', size: 0 });
    } else {
      const type = st.isCharacterDevice() ? 'character-device' : st.isBlockDevice() ? 'block-device' : st.isFIFO() ? 'fifo' : undefined;
      // A socket has no tar form (Docker skips it too).
      if (!type) return;
      await this.add({
        ...base,
        type,
        devmajor: Math.floor(st.rdev / 256) & 0xfff,
        devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
      });
    }
  }

  private async directory(dir: FileHandle, prefix: string): Promise<void> {
    const names = await fsp.readdir(fdPath(dir)).catch((e: unknown) => {
      throw fileError(e, `${this.top} (${prefix})`, 'cannot list');
    });
    for (const child of names) {
      const name = `${prefix === '.' ? '.' : prefix}/${child}`;
      // lstat first (it follows no link): most entries need nothing more,
      // and a walk of many small entries is bound by these round trips.
      let st = await fsp.lstat(fdPath(dir, child)).catch((e: NodeJS.ErrnoException) => {
        // Removed while we walk: not copied.
        if (e.code === 'ENOENT') return undefined;
        throw fileError(e, name, 'cannot copy');
      });
      if (!st) continue;
      if (!st.isDirectory() && !(st.isFile() && (st.size > 0 || st.nlink > 1))) {
        const link = st.isSymbolicLink() ? await fsp.readlink(fdPath(dir, child)).catch(() => '') : undefined;
        await this.entry(undefined, st, name, link);
        continue;
      }
      // A directory to walk or a file to read: the inode itself, opened with no link followed.
      let h: FileHandle;
      try {
        h = await fsp.open(fdPath(dir, child), O_PATH | C.O_NOFOLLOW);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw fileError(e, name, 'cannot copy');
      }
      try {
        st = await h.stat();
        const link = st.isSymbolicLink() ? await fsp.readlink(fdPath(dir, child)).catch(() => '') : undefined;
        await this.entry(h, st, name, link);
      } finally {
        await h.close();
      }
    }
  }

  private async file(handle: FileHandle, st: Stats, header: Header): Promise<void> {
    // The checked inode itself, reopened for reading (its /proc link is the one to follow).
    const fh = await fsp.open(fdPath(handle), C.O_RDONLY).catch((e: unknown) => {
      throw fileError(e, header.name, 'cannot read');
    });
    const size = st.size;
    const source =
      size > 0 ? createReadStream('', { fd: fh, start: 0, end: size - 1, autoClose: true, highWaterMark: READ_CHUNK }) : undefined;
    if (!source) await fh.close();
    let read = 0;
    source?.on('data', (c: string | Buffer) => (read += c.length));
    await this.add({ ...header, type: 'file', size }, source);
    if (read !== size) throw failedPrecondition(`cannot copy ${header.name}: it changed size while being copied`);
  }

  /** Entries with no data written but not yet waited for, and the newest of them. */
  private unawaited = 0;
  private lastUnawaited: Promise<void> = Promise.resolve();

  /**
   * One entry, its content piped in with the pack's backpressure. An entry
   * with no data is not waited for one by one (each would be a round trip
   * through the reader): every UNAWAITED_ENTRIES-th, and before one with
   * data, the walk waits until the reader has taken them.
   */
  private async add(header: Header, source?: Readable): Promise<void> {
    if (!source) {
      const written = this.write(header);
      written.catch(() => undefined);
      this.lastUnawaited = written;
      if (++this.unawaited >= UNAWAITED_ENTRIES) await this.settle();
      return;
    }
    await this.settle();
    await this.write(header, source);
  }

  async settle(): Promise<void> {
    this.unawaited = 0;
    await this.lastUnawaited;
  }

  private write(header: Header, source?: Readable): Promise<void> {
    const pack = this.pack;
    return new Promise<void>((resolve, reject) => {
      const onClose = () => {
        source?.destroy();
        reject(new Error('archive stream closed'));
      };
      pack.once('close', onClose);
      const done = (e?: Error | null) => {
        pack.off('close', onClose);
        if (e) reject(e);
        else resolve();
      };
      const entry = pack.entry(header, done);
      if (!source) {
        // No data: the entry is written once ended (at once for a directory or link).
        (entry as unknown as { end(): void }).end();
        return;
      }
      source.on('error', (e) => {
        entry.destroy(e);
        done(e);
      });
      source.pipe(entry);
    });
  }
}
