/**
 * A mount as snapshotters describe it (containerd's mount.Mount): enough to
 * call mount(2) later, or — for applying layers — to find the directories
 * behind it without mounting anything.
 *
 *   { type: 'bind', source: '/…/snapshots/3/fs', options: ['rbind', 'rw'] }
 *   { type: 'overlay', source: 'overlay',
 *     options: ['index=off', 'lowerdir=/…/2/fs:/…/1/fs', 'upperdir=/…/4/fs', 'workdir=/…/4/work'] }
 *
 * lowerdir lists the top-most layer first, as the kernel expects.
 *
 * `fuse-overlayfs` (FUSE_OVERLAY_TYPE) is the same overlay — same options,
 * same layers on disk (char 0/0 whiteouts, overlay opaque xattrs) — mounted
 * by the fuse-overlayfs program instead of the kernel, for a rootless daemon
 * whose kernel cannot mount overlayfs in a user namespace (docs/rootless.md).
 * Readers of mounts treat both alike (isOverlay).
 */
export interface Mount {
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

export const FUSE_OVERLAY_TYPE = 'fuse-overlayfs';

/** An overlay mount, by the kernel or by fuse-overlayfs. */
export function isOverlay(mount: Mount): boolean {
  return mount.type === 'overlay' || mount.type === FUSE_OVERLAY_TYPE;
}

export function optionValue(mount: Mount, key: string): string | undefined {
  const prefix = `${key}=`;
  return mount.options.find((o) => o.startsWith(prefix))?.slice(prefix.length);
}
