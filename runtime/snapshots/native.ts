/**
 * The native snapshotter (containerd's plugins/snapshots/native, Docker's
 * vfs): every active snapshot is a full copy of its parent's tree, so it
 * works on any filesystem and needs no overlay — at the cost of disk and of
 * copy time proportional to the parent's size. The fallback when overlay is
 * not available.
 *
 *   snapshots/<id>/fs     the snapshot's whole tree
 *
 * Mounts are always binds:
 *   active              bind <id>/fs rw (a copy of the parent's tree)
 *   view of a parent    bind <parent>/fs ro (committed trees never change, so
 *                       a view needs no copy)
 *   view, no parent     bind <id>/fs ro (an empty tree)
 *
 * The copy keeps everything a layer can carry: file types, modes including
 * setuid/setgid/sticky, owners (lchown), times (lutimes), symlinks,
 * hardlinks as hardlinks, device nodes and fifos (created with the mknod and
 * mkfifo tools, argv only: Node has no mknod), and extended attributes of
 * every namespace (one `getfattr -R` dump of the tree; when it is empty —
 * the usual case — nothing more runs, otherwise one `setfattr --restore`
 * applies it). Sockets are skipped: a copied socket connects to nothing.
 * Names are handled as bytes, so names that are not UTF-8 copy too.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { internal } from '../errdefs/errdefs';
import type { Mount } from '../mount/mount';
import { runTool, ToolMissingError } from '../mount/mounter';
import type { Kind } from './snapshots';
import { LocalSnapshotter, type LocalSnapshotterOptions } from './local';
import { MetaStore, type SnapshotRecord } from './metadata';

export class NativeSnapshotter extends LocalSnapshotter {
  readonly name = 'native';
  private warnedXattrs = false;

  private constructor(root: string, meta: MetaStore, options: LocalSnapshotterOptions) {
    super(root, meta, options);
  }

  /** Opens (creating) the snapshotter at `root`. */
  static async open(root: string, options: LocalSnapshotterOptions = {}): Promise<NativeSnapshotter> {
    const resolved = path.resolve(root);
    await fs.promises.mkdir(resolved, { recursive: true, mode: 0o700 });
    return new NativeSnapshotter(resolved, await MetaStore.open(resolved), options);
  }

  protected override async populate(
    dir: string,
    kind: Exclude<Kind, 'committed'>,
    parents: readonly SnapshotRecord[],
    signal: AbortSignal,
  ): Promise<void> {
    await fs.promises.mkdir(dir, { mode: 0o700 });
    const target = path.join(dir, 'fs');
    if (kind === 'active' && parents.length > 0) {
      await copyTree(this.fsDir(parents[0]), target, {
        signal,
        onXattrToolMissing: (tool) => {
          if (this.warnedXattrs) return;
          this.warnedXattrs = true;
          this.log.warn(`extended attributes are not copied: ${tool} is not installed (Debian package "attr")`);
        },
      });
    } else {
      await fs.promises.mkdir(target, { mode: 0o755 });
    }
  }

  protected override mountsOf(record: SnapshotRecord, parents: readonly SnapshotRecord[]): Mount[] {
    if (record.kind === 'active') return [{ type: 'bind', source: this.fsDir(record), options: ['rbind', 'rw'] }];
    const source = parents.length > 0 ? this.fsDir(parents[0]) : this.fsDir(record);
    return [{ type: 'bind', source, options: ['rbind', 'ro'] }];
  }
}

export interface CopyOptions {
  readonly signal: AbortSignal;
  /** Called when the tree has xattrs but getfattr/setfattr are missing; the copy goes on without them. */
  readonly onXattrToolMissing?: (tool: string) => void;
}

const SLASH = Buffer.from('/');

/**
 * Copies the tree at `src` to `dst` (which must not exist), preserving
 * everything listed in the file comment. Device nodes are made beside `dst`
 * under a temporary name, then renamed into place (tools take names as
 * UTF-8 argv; the rename takes bytes). Throws on the first failure, leaving
 * a partial `dst` for the caller to remove; honours `signal` between entries.
 */
export async function copyTree(src: string, dst: string, options: CopyOptions): Promise<void> {
  const copier = new TreeCopier(path.dirname(path.resolve(dst)), options.signal);
  await copier.copy(Buffer.from(src), Buffer.from(dst));
  await copyXattrs(src, dst, options);
}

class TreeCopier {
  /** dev:ino of a multiply-linked inode → where its first name was copied. */
  private readonly links = new Map<string, Buffer>();
  private readonly root = process.getuid?.() === 0;

  constructor(
    private readonly scratchDir: string,
    private readonly signal: AbortSignal,
  ) {}

  async copy(src: Buffer, dst: Buffer): Promise<void> {
    if (this.signal.aborted) throw this.signal.reason;
    const st = await fs.promises.lstat(src, { bigint: true });
    if (!st.isDirectory() && st.nlink > 1n) {
      const id = `${st.dev}:${st.ino}`;
      const first = this.links.get(id);
      if (first) return fs.promises.link(first, dst);
      this.links.set(id, dst);
    }
    const mode = Number(st.mode & 0o7777n);
    if (st.isDirectory()) {
      await fs.promises.mkdir(dst, { mode: 0o700 });
      for (const name of await fs.promises.readdir(src, { encoding: 'buffer' })) {
        await this.copy(Buffer.concat([src, SLASH, name]), Buffer.concat([dst, SLASH, name]));
      }
    } else if (st.isFile()) {
      await fs.promises.copyFile(src, dst, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
    } else if (st.isSymbolicLink()) {
      await fs.promises.symlink(await fs.promises.readlink(src, { encoding: 'buffer' }), dst);
    } else if (st.isFIFO()) {
      await this.makeNode(dst, (tmp) => ['mkfifo', ['-m', mode.toString(8), tmp]]);
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      const type = st.isCharacterDevice() ? 'c' : 'b';
      await this.makeNode(dst, (tmp) => ['mknod', ['-m', mode.toString(8), tmp, type, String(major), String(minor)]]);
    } else {
      return; // a socket
    }
    await this.chown(dst, Number(st.uid), Number(st.gid));
    // After chown, which clears setuid/setgid; symlinks have no mode of their own.
    if (!st.isSymbolicLink()) await fs.promises.chmod(dst, mode);
    // Last, so creating a directory's children does not move its mtime.
    await fs.promises.lutimes(dst, nsToSeconds(st.atimeNs), nsToSeconds(st.mtimeNs));
  }

  private async makeNode(dst: Buffer, argv: (tmp: string) => [string, string[]]): Promise<void> {
    const tmp = path.join(this.scratchDir, `.node-${randomBytes(6).toString('hex')}`);
    const [tool, args] = argv(tmp);
    try {
      await runTool(tool, args, { signal: this.signal });
      await fs.promises.rename(tmp, dst);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      if (e instanceof ToolMissingError) throw internal(`cannot copy ${dst.toString()}: ${tool} is not installed`, e);
      throw e;
    }
  }

  private async chown(dst: Buffer, uid: number, gid: number): Promise<void> {
    try {
      await fs.promises.lchown(dst, uid, gid);
    } catch (e) {
      // Unprivileged, files can only be ours; what cannot be kept is the owner.
      if (this.root || (e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
    }
  }
}

/** glibc's major()/minor() for a 64-bit dev_t. */
function splitDev(rdev: bigint): { major: bigint; minor: bigint } {
  return {
    major: ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n),
    minor: (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n),
  };
}

function nsToSeconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

async function copyXattrs(src: string, dst: string, options: CopyOptions): Promise<void> {
  let dump: Buffer;
  try {
    // -P: do not walk through symlinked dirs; -h: a symlink's own xattrs; hex values are binary-safe.
    dump = (await runTool('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: src, signal: options.signal })).stdout;
  } catch (e) {
    if (e instanceof ToolMissingError) return options.onXattrToolMissing?.('getfattr');
    throw e;
  }
  if (dump.length === 0) return;
  try {
    await runTool('setfattr', ['-h', '--restore=-'], { cwd: dst, input: dump, signal: options.signal });
  } catch (e) {
    if (e instanceof ToolMissingError) return options.onXattrToolMissing?.('setfattr');
    throw e;
  }
}
