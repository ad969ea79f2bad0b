/**
 * LayerWriter: applies the entries of one layer, in tar order, to a target
 * directory. TarApplier (applier.ts) feeds it; it owns the per-layer state.
 *
 * Order of work
 * - Each entry is checked (name, parents, type) and its inode created before
 *   the next entry is read: a later entry can depend on it (a child of a
 *   directory, a hardlink to a file) or replace it.
 * - Small files (the vast majority) are written whole, with owner, mode and
 *   times, right there. Large files are written as they stream in, and their
 *   metadata set afterwards through the open fd, alongside the next entries
 *   (an fd names the inode, so nothing a later entry puts at the path is
 *   touched).
 * - At the end: device nodes, fifos and whiteout devices (one `tar -x`),
 *   xattrs (one `setfattr --restore`), then the owner, mode and times of the
 *   directories, whose mtimes changed while children were written. Every
 *   directory those batches write into is in changedDirs (or dirMeta), so its
 *   times are set after everything that writes into it.
 *
 * Synchronous syscalls, in slices: the per-entry calls (open, write, fchown,
 * futimes, close, mkdir, symlink, link, lstat) are made with the *Sync API.
 * Through libuv's thread pool each one costs a hand-off to a worker thread
 * and back, which for a small file is more than the syscall itself: measured
 * on a 25,000-file layer, the async version used twice the CPU (user+sys)
 * and took ~1.7× the time. To keep the daemon responsive the writer yields
 * to the event loop whenever it has run for SLICE_MS; large file contents,
 * directory removals and helper processes stay asynchronous.
 *
 * Safety: see paths.ts. Every path is created with calls that do not follow
 * a final symlink (O_CREAT|O_EXCL|O_NOFOLLOW, mkdir, symlink, link, lchown,
 * lutimes, O_NOFOLLOW|O_DIRECTORY for directories), under parents checked to
 * be real directories.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { invalidArgument, isGantryError } from '../errdefs/errdefs';
import { drain, readAll, streamToFd, writevAllSync, type EntryData } from './content';
import { NodeBatch, type NodeKind } from './devices';
import { metaOf, text, type EntryHeader, type Meta } from './header';
import { baseOf, entryPath, fsError, isWithin, lstatOrNull, parentOf, quoteName, TargetTree, type DirTimes } from './paths';
import { classifyWhiteout, emptyOpaqueDir } from './whiteouts';
import { XattrBatch, xattrsOf } from './xattrs';

export type { EntryData } from './content';
export type { EntryHeader } from './header';

export interface WriterOptions {
  readonly root: string;
  /** Overlay lowerdirs, top-most first; [] for a plain directory. */
  readonly lowers: readonly string[];
  /** 'overlay': whiteouts become char 0/0 devices and opaque xattrs; 'native': they delete. */
  readonly whiteouts: 'overlay' | 'native';
  /** Overlay: the xattr that marks an opaque directory. */
  readonly opaqueXattr: string;
  readonly rootless: boolean;
  /** Large files being written at once, alongside the next entries. */
  readonly concurrency: number;
  readonly smallFileSize: number;
  readonly signal: AbortSignal;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

const close = promisify(fs.close);
const fchown = promisify(fs.fchown);
const fchmod = promisify(fs.fchmod);
const futimes = promisify(fs.futimes);

/** Longest run of synchronous work before yielding to the event loop. */
const SLICE_MS = 5;

export class LayerWriter {
  readonly tree: TargetTree;
  /** Entries read so far. */
  entries = 0;

  /** Paths this layer created or merged into (entries and their parents). */
  private readonly touched = new Set<string>(['']);
  private readonly dirMeta = new Map<string, Meta>();
  private readonly nodes = new NodeBatch();
  private readonly xattrs = new XattrBatch();
  private readonly opaqueDone = new Set<string>();
  /** Directories whose children this layer changed (their times are restored at the end). */
  private readonly changedDirs = new Set<string>();
  /** Overlay: paths with a whiteout device queued (created at the end). */
  private readonly whitedOut = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  private readonly euid: number;
  private readonly umask: number;
  private sliceStart = performance.now();

  constructor(private readonly opts: WriterOptions) {
    this.euid = process.geteuid?.() ?? 0;
    this.umask = currentUmask();
    this.tree = new TargetTree(opts.root, opts.lowers, process.getegid?.() ?? 0);
  }

  /** Applies one entry; its content is consumed before this resolves. */
  async entry(h: EntryHeader, data: EntryData): Promise<void> {
    this.entries++;
    if (this.failure) throw this.failure.error;
    if (this.opts.signal.aborted) throw this.opts.signal.reason;
    if (performance.now() - this.sliceStart > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      this.sliceStart = performance.now();
    }
    const name = text(h.name, h.name, 'name');
    try {
      await this.apply(name, h, data);
    } catch (e) {
      // Syscall failures name the entry; anything else (the entry stream torn down) passes as is.
      throw isGantryError(e) || !isErrno(e) ? e : fsError(e, name, 'apply');
    }
  }

  /** After the last entry: waits for file writes, then creates nodes, sets xattrs and directory metadata. */
  async finish(): Promise<void> {
    await this.drainInflight();
    if (this.failure) throw this.failure.error;
    const { signal } = this.opts;
    await this.nodes.commit(this.opts.root, this.opts.rootless, signal);
    await this.xattrs.commit(signal);
    // Directories with an entry get its metadata; those the layer only added
    // to or removed from get their own times back.
    const work: [string, Meta | undefined, DirTimes][] = [...this.dirMeta].map(([rel, meta]) => [rel, meta, meta]);
    for (const rel of this.changedDirs) {
      const times = this.dirMeta.has(rel) ? undefined : this.tree.known(rel)?.times;
      if (times) work.push([rel, undefined, times]);
    }
    for (const [rel, meta, times] of work) {
      if (performance.now() - this.sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        if (signal.aborted) throw signal.reason;
        this.sliceStart = performance.now();
      }
      let fd: number;
      try {
        fd = fs.openSync(this.tree.abs(rel), DIR_FLAGS);
      } catch (e) {
        throw fsError(e, rel, 'open directory to set its metadata');
      }
      try {
        if (meta) {
          this.chownSync(fd, meta, rel);
          fs.fchmodSync(fd, meta.mode);
        }
        fs.futimesSync(fd, times.atime, times.mtime);
      } catch (e) {
        throw isGantryError(e) ? e : fsError(e, rel, 'set directory metadata');
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  /** After a failure: waits until nothing the writer started is still running. Never throws. */
  async settle(): Promise<void> {
    await this.drainInflight();
  }

  private async apply(name: string, h: EntryHeader, data: EntryData): Promise<void> {
    const rel = entryPath(name);
    const type = h.type ?? null;
    if (rel === '') {
      // The root itself ("./"): left as the snapshotter made it, as containerd does.
      if (type === 'directory') return;
      throw invalidArgument(`entry ${quoteName(name)}: replaces the target root`);
    }
    const parent = parentOf(rel);
    const whiteout = classifyWhiteout(baseOf(rel), name);
    if (whiteout.kind !== 'none') {
      await drain(h, data);
      if (whiteout.kind === 'opaque') await this.opaque(parent, name);
      else if (whiteout.kind === 'delete') await this.whiteout(parent === '' ? whiteout.name : `${parent}/${whiteout.name}`, name, h);
      return;
    }
    if (this.whitedOut.size > 0) this.reviveParents(rel, name);
    this.checkNotUnderNode(rel, name);
    this.tree.ensureDir(parent, name, this.onImplicitDir);
    this.touch(rel);
    this.changedDirs.add(parent);
    switch (type) {
      case 'directory':
        return this.directory(rel, name, h);
      case 'file':
      case 'contiguous-file':
        return this.file(rel, name, h, data);
      case 'symlink':
        await drain(h, data);
        return this.symlink(rel, name, h);
      case 'link':
        await drain(h, data);
        return this.hardlink(rel, name, h);
      case 'character-device':
      case 'block-device':
      case 'fifo':
        await drain(h, data);
        return this.node(rel, name, h, type);
      default:
        throw invalidArgument(`entry ${quoteName(name)}: unsupported entry type ${type ?? 'unknown'}`);
    }
  }

  // ---- entry kinds ----

  private async directory(rel: string, name: string, h: EntryHeader): Promise<void> {
    const meta = metaOf(h, name);
    const abs = this.tree.abs(rel);
    const recreated = this.whitedOut.has(rel);
    this.claim(rel);
    let created = tryMkdir(abs);
    if (!created) {
      const st = lstatOrNull(abs);
      if (st && !st.isDirectory()) {
        await this.remove(rel, st);
        created = tryMkdir(abs);
        if (!created) throw invalidArgument(`entry ${quoteName(name)}: path appeared again while replacing it`);
      }
    }
    this.dirMeta.set(rel, meta);
    this.xattrs.add(abs, xattrsOf(h.pax, 'directory', this.opts.rootless), h.name);
    if (recreated) {
      this.makeOpaque(rel);
    } else if (this.opts.lowers.length === 0 && created) {
      // New directories inherit a set-group-ID parent's group (and bit); the final mode comes at the end.
      this.tree.remember(rel, { inheritGid: this.tree.known(parentOf(rel))?.inheritGid, lowers: [] });
    }
  }

  private async file(rel: string, name: string, h: EntryHeader, data: EntryData): Promise<void> {
    const meta = metaOf(h, name);
    const abs = this.tree.abs(rel);
    const size = h.size ?? 0;
    const chown = meta.uid !== this.euid || meta.gid !== this.tree.groupFor(parentOf(rel));
    // chown clears set-id bits, so the mode comes after it; skipped when open() already set it.
    const chmod = (meta.mode & 0o7000) !== 0 || (meta.mode & 0o777 & this.umask) !== 0;
    this.claim(rel);
    if (size <= this.opts.smallFileSize) {
      const chunks = size > 0 ? await readAll(data) : [];
      const fd = await this.createExclusive(rel, () => fs.openSync(abs, CREATE_FLAGS, meta.mode & 0o777));
      try {
        writevAllSync(fd, chunks);
        if (chown) this.chownSync(fd, meta, name);
        if (chmod) fs.fchmodSync(fd, meta.mode);
        fs.futimesSync(fd, meta.atime, meta.mtime);
      } finally {
        fs.closeSync(fd);
      }
      this.xattrs.add(abs, xattrsOf(h.pax, 'file', this.opts.rootless), h.name);
      return;
    }
    const fd = await this.createExclusive(rel, () => fs.openSync(abs, CREATE_FLAGS, meta.mode & 0o777));
    this.xattrs.add(abs, xattrsOf(h.pax, 'file', this.opts.rootless), h.name);
    const { read, written } = streamToFd(fd, data);
    try {
      await read;
    } catch (e) {
      await written.catch(() => undefined);
      await close(fd).catch(() => undefined);
      throw e;
    }
    await this.schedule(name, async () => {
      try {
        await written;
        if (chown) await this.chown(fd, meta, name);
        if (chmod) await fchmod(fd, meta.mode);
        await futimes(fd, meta.atime, meta.mtime);
      } finally {
        await close(fd);
      }
    });
  }

  private async symlink(rel: string, name: string, h: EntryHeader): Promise<void> {
    const meta = metaOf(h, name);
    // Any target is fine: a symlink is only dangerous when followed, and nothing here follows one.
    const target = text(h.linkname ?? '', name, 'symlink target');
    if (target === '') throw invalidArgument(`entry ${quoteName(name)}: symlink with an empty target`);
    const abs = this.tree.abs(rel);
    this.claim(rel);
    await this.createExclusive(rel, () => fs.symlinkSync(target, abs));
    if (meta.uid !== this.euid || meta.gid !== this.tree.groupFor(parentOf(rel))) {
      try {
        fs.lchownSync(abs, meta.uid, meta.gid);
      } catch (e) {
        if (!this.ignoreChownError(e)) throw fsError(e, name, `chown to ${meta.uid}:${meta.gid}`);
      }
    }
    fs.lutimesSync(abs, meta.atime, meta.mtime);
    this.xattrs.add(abs, xattrsOf(h.pax, 'symlink', this.opts.rootless), h.name);
  }

  private async hardlink(rel: string, name: string, h: EntryHeader): Promise<void> {
    const linkname = text(h.linkname ?? '', name, 'hardlink target');
    const what = `entry ${quoteName(name)}: hardlink target`;
    const lrel = entryPath(linkname, what);
    if (lrel === '' || lrel === rel) throw invalidArgument(`${what} ${quoteName(linkname)} is not another file`);
    const abs = this.tree.abs(rel);
    const pending = this.nodes.get(lrel);
    if (pending) {
      // A device or fifo of this layer, created at the end: link it then too.
      this.claim(rel);
      const st = lstatOrNull(abs);
      if (st) await this.remove(rel, st);
      this.nodes.set(rel, { kind: 'link', target: pending.kind === 'link' ? pending.target : lrel });
      return;
    }
    const lparent = this.tree.existingDir(parentOf(lrel), name);
    const labs = this.tree.abs(lrel);
    const lst = lparent === 'absent' || lparent === 'lower' ? null : lstatOrNull(labs);
    if (!lst) {
      const below =
        this.opts.lowers.length > 0 ? ' in this layer (a hardlink into a lower layer cannot be applied to an overlay upperdir)' : '';
      throw invalidArgument(`${what} ${quoteName(linkname)} does not exist${below}`);
    }
    if (lst.isDirectory()) throw invalidArgument(`${what} ${quoteName(linkname)} is a directory`);
    this.claim(rel);
    // link(2) does not follow a symlink target: the new name is another link to the symlink itself.
    await this.createExclusive(rel, () => fs.linkSync(labs, abs));
  }

  private async node(rel: string, name: string, h: EntryHeader, kind: NodeKind): Promise<void> {
    if (kind !== 'fifo' && this.opts.rootless) {
      throw invalidArgument(`entry ${quoteName(name)}: device nodes can only be created as root`);
    }
    const meta = metaOf(h, name);
    const abs = this.tree.abs(rel);
    this.claim(rel);
    const st = lstatOrNull(abs);
    if (st) await this.remove(rel, st);
    this.nodes.set(rel, {
      kind,
      mode: meta.mode,
      uid: meta.uid,
      gid: meta.gid,
      mtime: new Date(meta.mtime * 1000),
      major: kind === 'fifo' ? 0 : (h.devmajor ?? 0),
      minor: kind === 'fifo' ? 0 : (h.devminor ?? 0),
    });
    this.xattrs.add(abs, xattrsOf(h.pax, 'other', this.opts.rootless), h.name);
  }

  // ---- whiteouts ----

  private async whiteout(rel: string, name: string, h: EntryHeader): Promise<void> {
    // Whiteouts hide lower content only; what this layer wrote stays.
    if (this.touched.has(rel)) return;
    const parent = parentOf(rel);
    const where = this.tree.existingDir(parent, name);
    if (where === 'absent') return;
    const abs = this.tree.abs(rel);
    if (this.opts.whiteouts === 'native') {
      if (where === 'lower') return;
      const st = lstatOrNull(abs);
      if (st) await this.remove(rel, st);
      return;
    }
    if (where === 'lower') this.tree.ensureDir(parent, name, this.onImplicitDir);
    this.checkNotUnderNode(rel, name);
    const st = lstatOrNull(abs);
    if (st) await this.remove(rel, st);
    const meta = metaOf(h, name);
    this.nodes.set(rel, {
      kind: 'character-device',
      mode: 0,
      uid: meta.uid,
      gid: meta.gid,
      mtime: new Date(meta.mtime * 1000),
      major: 0,
      minor: 0,
    });
    this.whitedOut.add(rel);
    // The device is made in `parent` by the end-of-layer tar -x, which bumps
    // its mtime: finish() restores the times after that (often the lower
    // directory's, copied when ensureDir made the parent for this whiteout).
    this.changedDirs.add(parent);
  }

  /**
   * Overlay: a path whited out earlier in this layer is being used as a
   * directory again (`.wh.d` then `d/x`). The whiteout gives way to a new
   * opaque directory, so the deleted lower directory stays hidden.
   */
  private reviveParents(rel: string, name: string): void {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!this.whitedOut.has(dir)) continue;
      this.claim(dir);
      this.tree.ensureDir(parentOf(dir), name, this.onImplicitDir);
      fs.mkdirSync(this.tree.abs(dir), { mode: 0o755 });
      this.makeOpaque(dir);
      this.onImplicitDir(dir);
    }
  }

  /** Overlay: `dir` (in the upperdir) hides everything below it in the lowerdirs. */
  private makeOpaque(dir: string): void {
    this.xattrs.add(this.tree.abs(dir), [{ name: this.opts.opaqueXattr, value: Buffer.from('y') }]);
    this.tree.forget(dir);
    this.tree.remember(dir, { inheritGid: this.tree.known(parentOf(dir))?.inheritGid, lowers: [] });
  }

  private async opaque(dir: string, name: string): Promise<void> {
    if (this.opaqueDone.has(dir)) return;
    this.opaqueDone.add(dir);
    const where = this.tree.existingDir(dir, name);
    if (where === 'absent') return;
    if (this.opts.whiteouts === 'overlay') {
      if (where === 'lower') this.tree.ensureDir(dir, name, this.onImplicitDir);
      this.touch(dir);
      this.xattrs.add(this.tree.abs(dir), [{ name: this.opts.opaqueXattr, value: Buffer.from('y') }]);
      // Its times too are (re)set in finish(), after the setfattr batch.
      this.changedDirs.add(dir);
      return;
    }
    if (where === 'lower') return;
    try {
      await emptyOpaqueDir(
        this.tree.abs(dir),
        dir,
        (rel) => this.touched.has(rel),
        (rel, wasDir) => {
          this.changedDirs.add(parentOf(rel));
          this.forget(rel, wasDir);
        },
      );
    } catch (e) {
      throw fsError(e, name, 'empty opaque directory');
    }
  }

  // ---- helpers ----

  /** Creates an inode with `create`; if something is in the way, removes it and tries once more. */
  private async createExclusive<T>(rel: string, create: () => T): Promise<T> {
    try {
      return create();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const st = lstatOrNull(this.tree.abs(rel));
    if (st) await this.remove(rel, st);
    return create();
  }

  /** Removes what is at `rel` (not following a symlink) and forgets what was known about it. */
  private async remove(rel: string, st: fs.Stats): Promise<void> {
    const abs = this.tree.abs(rel);
    const isDir = st.isDirectory();
    try {
      if (isDir) await fs.promises.rm(abs, { recursive: true, force: true });
      else fs.unlinkSync(abs);
    } catch (e) {
      throw fsError(e, rel, 'remove existing path');
    }
    this.changedDirs.add(parentOf(rel));
    this.forget(rel, isDir);
  }

  private forget(rel: string, wasDir: boolean): void {
    const abs = this.tree.abs(rel);
    this.nodes.drop(rel, wasDir);
    this.xattrs.drop(abs, wasDir);
    this.dirMeta.delete(rel);
    this.whitedOut.delete(rel);
    if (!wasDir) return;
    this.tree.forget(rel);
    for (const key of this.dirMeta.keys()) if (isWithin(key, rel)) this.dirMeta.delete(key);
    for (const key of this.whitedOut) if (isWithin(key, rel)) this.whitedOut.delete(key);
  }

  /** A new entry takes `rel`: whatever this layer had queued for the old one no longer applies. */
  private claim(rel: string): void {
    this.whitedOut.delete(rel);
    if (this.nodes.size > 0) this.nodes.drop(rel, false);
    if (this.xattrs.size > 0) this.xattrs.drop(this.tree.abs(rel), false);
    this.dirMeta.delete(rel);
  }

  /** A parent directory the tree had to create: it is this layer's, and its own parent changed. */
  private readonly onImplicitDir = (dir: string): void => {
    this.touch(dir);
    this.changedDirs.add(parentOf(dir));
  };

  private touch(rel: string): void {
    let p = rel;
    while (!this.touched.has(p)) {
      this.touched.add(p);
      p = parentOf(p);
    }
  }

  /** A device or fifo of this layer exists only at the end: nothing may be created below it. */
  private checkNotUnderNode(rel: string, name: string): void {
    if (this.nodes.size === 0) return;
    for (let p = parentOf(rel); p !== ''; p = parentOf(p)) {
      if (this.nodes.has(p)) throw invalidArgument(`entry ${quoteName(name)}: parent ${quoteName(p)} is not a directory`);
    }
  }

  private chownSync(fd: number, meta: Meta, name: string): void {
    try {
      fs.fchownSync(fd, meta.uid, meta.gid);
    } catch (e) {
      if (!this.ignoreChownError(e)) throw fsError(e, name, `chown to ${meta.uid}:${meta.gid}`);
    }
  }

  private async chown(fd: number, meta: Meta, name: string): Promise<void> {
    try {
      await fchown(fd, meta.uid, meta.gid);
    } catch (e) {
      if (!this.ignoreChownError(e)) throw fsError(e, name, `chown to ${meta.uid}:${meta.gid}`);
    }
  }

  /** Rootless: owners that cannot be set (not mapped, not ours) are left as they are. */
  private ignoreChownError(e: unknown): boolean {
    const code = (e as NodeJS.ErrnoException).code;
    return this.opts.rootless && (code === 'EPERM' || code === 'EINVAL');
  }

  /** Runs `task` alongside the next entries, at most `concurrency` at once; the first failure fails the layer. */
  private async schedule(name: string, task: () => Promise<void>): Promise<void> {
    while (this.inflight.size >= this.opts.concurrency) await Promise.race(this.inflight);
    if (this.failure) throw this.failure.error;
    const p: Promise<void> = task()
      .catch((e: unknown) => {
        this.failure ??= { error: isGantryError(e) ? e : fsError(e, name, 'write file') };
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async drainInflight(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }
}

// ---- module helpers ----

function isErrno(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** mkdir; false (instead of throwing) when the path exists. */
function tryMkdir(abs: string): boolean {
  try {
    fs.mkdirSync(abs, { mode: 0o755 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** The process umask, read without changing it (process.umask() with no argument is deprecated). */
function currentUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseInt(m[1], 8);
  } catch {
    // not Linux, or no /proc: fall through
  }
  return process.umask();
}
