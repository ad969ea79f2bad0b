/**
 * The overlayfs snapshotter (containerd's plugins/snapshots/overlay): each
 * snapshot's directory holds only its own changes, and a snapshot's tree is
 * its parents' dirs stacked under it by an overlay mount.
 *
 *   snapshots/<id>/fs     the layer's files (the overlay upperdir while active)
 *   snapshots/<id>/work   overlay's workdir (active snapshots only)
 *
 * Mounts (lowerdir lists the nearest parent first):
 *   active, no parent       bind <id>/fs rw
 *   active, parents         overlay lowerdir=<p1>/fs:<p2>/fs…,upperdir=<id>/fs,workdir=<id>/work
 *   view, no parent         bind <id>/fs ro (an empty tree)
 *   view of one layer       bind <parent>/fs ro
 *   view of a chain         overlay lowerdir=… only (overlay is read-only without an upper)
 *
 * Commit only changes the record: the directory stays where it is, so
 * committing costs one metadata write whatever the layer's size.
 *
 * Limits: the kernel stacks at most 500 lower layers, and mount(2) takes one
 * page of options. `mount/mounter.ts` shortens long lowerdir lists to paths
 * relative to snapshots/ (~8 bytes a layer); prepare refuses a chain that
 * would still not fit (InvalidArgument / ResourceExhausted) before creating
 * anything, rather than handing out mounts that fail later.
 *
 * `supported(root)` is the start-up check: root privileges, a backing
 * filesystem with d_type, and a real overlay mount on it that can write and
 * create whiteouts.
 *
 * The `fuse` flavour (name `fuse-overlayfs`, docs/rootless.md) is the same
 * snapshotter with its overlay mounts made by the fuse-overlayfs program
 * (mount type FUSE_OVERLAY_TYPE): for a rootless daemon whose kernel cannot
 * mount overlayfs in a user namespace (before 5.11, or a policy). Same
 * layout, same whiteouts, same mount options; no page limit on them (they go
 * to the program's argv). `fuseSupported(root)` makes the same test mount
 * through it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FUSE_OVERLAY_TYPE, type Mount } from '../mount/mount';
import { FUSE_OVERLAYFS, mount, overlayMountData, runTool, ToolMissingError, unmount } from '../mount/mounter';
import type { Kind } from './snapshots';
import { LocalSnapshotter, removeTree, type LocalSnapshotterOptions } from './local';
import { MetaStore, type SnapshotRecord } from './metadata';
import { inUserNamespace } from '../util/userNamespace';

const SCRATCH_PREFIX = '.overlay-check-';

export type Support = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Who mounts the overlays: the kernel, or the fuse-overlayfs program. */
export type OverlayFlavor = 'kernel' | 'fuse';

export class OverlaySnapshotter extends LocalSnapshotter {
  readonly name: 'overlayfs' | 'fuse-overlayfs';

  private constructor(
    root: string,
    meta: MetaStore,
    options: LocalSnapshotterOptions,
    private readonly flavor: OverlayFlavor,
  ) {
    super(root, meta, options);
    this.name = flavor === 'fuse' ? 'fuse-overlayfs' : 'overlayfs';
  }

  /** Opens (creating) the snapshotter at `root`. Does not check support: see `supported` and `fuseSupported`. */
  static async open(root: string, options: LocalSnapshotterOptions = {}, flavor: OverlayFlavor = 'kernel'): Promise<OverlaySnapshotter> {
    const resolved = path.resolve(root);
    await fs.promises.mkdir(resolved, { recursive: true, mode: 0o700 });
    return new OverlaySnapshotter(resolved, await MetaStore.open(resolved), options, flavor);
  }

  protected override async populate(dir: string, kind: Exclude<Kind, 'committed'>, parents: readonly SnapshotRecord[]): Promise<void> {
    await fs.promises.mkdir(dir, { mode: 0o700 });
    const upper = path.join(dir, 'fs');
    await fs.promises.mkdir(upper, { mode: 0o755 });
    if (kind === 'active') await fs.promises.mkdir(path.join(dir, 'work'), { mode: 0o700 });
    if (parents.length > 0) {
      // The merged root takes the upper dir's owner and mode: keep the image's.
      const st = await fs.promises.stat(this.fsDir(parents[0]));
      await fs.promises.chown(upper, st.uid, st.gid);
      await fs.promises.chmod(upper, st.mode & 0o7777);
    }
  }

  protected override mountsOf(record: SnapshotRecord, parents: readonly SnapshotRecord[]): Mount[] {
    return overlayMounts(
      record.kind,
      { fs: this.fsDir(record), work: path.join(this.meta.dir(record.id), 'work') },
      parents.map((p) => this.fsDir(p)),
      undefined,
      this.flavor,
    );
  }

  protected override checkParents(_key: string, parents: readonly SnapshotRecord[]): void {
    // mount(2)'s page and the kernel's 500 layers; fuse-overlayfs takes its options on argv.
    if (parents.length < 2 || this.flavor === 'fuse') return;
    // The id of a snapshot not created yet: as long as any id can get.
    const probe = path.join(this.meta.snapshotsDir, '9'.repeat(15));
    for (const m of overlayMounts(
      'active',
      { fs: path.join(probe, 'fs'), work: path.join(probe, 'work') },
      parents.map((p) => this.fsDir(p)),
    )) {
      if (m.type === 'overlay') overlayMountData(m);
    }
  }

  /**
   * Whether overlay snapshots work under `root`: run as root, on a
   * filesystem with d_type, where an overlay mount can be made, written
   * through, and can create whiteouts. Creates and removes a scratch dir
   * under `root`.
   */
  static async supported(root: string): Promise<Support> {
    return checkSupport(root, 'kernel');
  }

  /**
   * The same check with fuse-overlayfs making the mount: the program on
   * PATH, /dev/fuse usable, and its mount writing through and creating
   * 0/0 whiteouts (which the changes walker and the applier rely on).
   */
  static async fuseSupported(root: string): Promise<Support> {
    return checkSupport(root, 'fuse');
  }
}

async function checkSupport(root: string, flavor: OverlayFlavor): Promise<Support> {
  const what = flavor === 'fuse' ? 'fuse-overlayfs' : 'overlay';
  if (process.getuid?.() !== 0) return { ok: false, reason: `${what} mounts need root (running as uid ${process.getuid?.()})` };
  const resolved = path.resolve(root);
  if (/[,:]/.test(resolved)) return { ok: false, reason: `root ${resolved} contains ',' or ':', which overlay mount options cannot carry` };
  try {
    await fs.promises.mkdir(resolved, { recursive: true, mode: 0o700 });
    const dtype = await checkDType(resolved);
    if (dtype) return { ok: false, reason: dtype };
    await tryOverlayMount(resolved, flavor);
    return { ok: true };
  } catch (e) {
    // mount() wraps the spawn failure: the program missing is its cause.
    const missing = e instanceof ToolMissingError ? e : (e as { cause?: unknown }).cause;
    if (missing instanceof ToolMissingError)
      return {
        ok: false,
        reason: `${missing.tool} is not installed${missing.tool === FUSE_OVERLAYFS ? ' (apt-get install fuse-overlayfs)' : ''}`,
      };
    return { ok: false, reason: `${what} mount test under ${resolved} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The mounts for a snapshot with its own dirs and its parents' fs dirs (nearest first). */
export function overlayMounts(
  kind: Kind,
  own: { fs: string; work: string },
  lowers: readonly string[],
  // In a user namespace (rootless gantryd, docs/rootless.md) overlayfs cannot use trusted.overlay.* xattrs: without
  // `userxattr` removing a lower directory fails with EIO and lower opaque markers are not seen. With it, the
  // applier writes user.overlay.opaque (unpack/applier.ts) and the changes walker reads it (changes/walk.ts).
  userxattr = inUserNamespace(),
  flavor: OverlayFlavor = 'kernel',
): Mount[] {
  const extra = userxattr ? ['userxattr'] : [];
  const [type, source] = flavor === 'fuse' ? [FUSE_OVERLAY_TYPE, FUSE_OVERLAY_TYPE] : ['overlay', 'overlay'];
  if (lowers.length === 0) {
    return [{ type: 'bind', source: own.fs, options: ['rbind', kind === 'active' ? 'rw' : 'ro'] }];
  }
  if (kind !== 'active') {
    if (lowers.length === 1) return [{ type: 'bind', source: lowers[0], options: ['rbind', 'ro'] }];
    return [{ type, source, options: ['index=off', ...extra, `lowerdir=${lowers.join(':')}`] }];
  }
  return [
    {
      type,
      source,
      options: ['index=off', ...extra, `lowerdir=${lowers.join(':')}`, `upperdir=${own.fs}`, `workdir=${own.work}`],
    },
  ];
}

/**
 * Overlay needs d_type from the upper and lower filesystems (without it,
 * whiteouts cannot be told from files). Every Linux filesystem usable as an
 * overlay upper has it except XFS formatted with ftype=0, which is checked
 * with xfs_info when present. Returns the reason it is missing, or ''.
 */
async function checkDType(dir: string): Promise<string> {
  const type = (await runTool('stat', ['-f', '-c', '%T', dir])).stdout.toString().trim();
  if (type !== 'xfs') return '';
  try {
    const info = (await runTool('xfs_info', [dir])).stdout.toString();
    return /ftype=0/.test(info) ? `${dir} is on XFS formatted with ftype=0 (no d_type); overlay needs ftype=1` : '';
  } catch {
    return ''; // xfs_info missing: ftype=1 has been mkfs.xfs's default since 2015
  }
}

async function tryOverlayMount(root: string, flavor: OverlayFlavor): Promise<void> {
  // A check a crash interrupted left its scratch dir (perhaps still mounted).
  for (const entry of await fs.promises.readdir(root)) {
    if (entry.startsWith(SCRATCH_PREFIX)) await removeTree(path.join(root, entry));
  }
  const scratch = await fs.promises.mkdtemp(path.join(root, SCRATCH_PREFIX));
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(scratch, d));
  try {
    for (const d of [lower, upper, work, merged]) await fs.promises.mkdir(d);
    await fs.promises.writeFile(path.join(lower, 'from-lower'), 'lower');
    await mount(overlayMounts('active', { fs: upper, work }, [lower], undefined, flavor), merged);
    try {
      await fs.promises.writeFile(path.join(merged, 'written'), 'upper');
      await fs.promises.unlink(path.join(merged, 'from-lower'));
    } finally {
      await unmount(merged);
    }
    if ((await fs.promises.readFile(path.join(upper, 'written'), 'utf8')) !== 'upper')
      throw new Error('a write through the mount did not reach the upper dir');
    const whiteout = await fs.promises.lstat(path.join(upper, 'from-lower'));
    if (!whiteout.isCharacterDevice() || whiteout.rdev !== 0)
      throw new Error('deleting a lower file did not leave a 0/0 whiteout device in the upper dir');
  } finally {
    await removeTree(scratch);
  }
}
