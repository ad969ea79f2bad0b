/**
 * Choosing the snapshotter at daemon start-up.
 *
 * `root` is the daemon's snapshots area (e.g. `<data root>/snapshots`); each
 * implementation lives in its own subdirectory (`overlayfs/`, `fuse-overlayfs/`, `native/`),
 * because their trees are not interchangeable: an overlay layer holds only
 * its changes, a native one the whole tree. Switching implementation
 * therefore starts from an empty snapshotter (images are unpacked again);
 * the other's snapshots stay on disk untouched.
 *
 *   'overlayfs'       kernel overlay, or FailedPrecondition saying why it cannot work here
 *   'fuse-overlayfs'  overlay through fuse-overlayfs, or FailedPrecondition likewise
 *   'native'          native, always
 *   'auto'            the first that works of kernel overlay
 *                     (`OverlaySnapshotter.supported`), fuse-overlayfs
 *                     (`fuseSupported`: for a rootless daemon on a kernel
 *                     before 5.11, or where a policy refuses overlay in a
 *                     user namespace; docs/rootless.md) and native, each
 *                     fallback logged with the reasons
 *
 * The checks run at every start (a test mount each), so the choice follows
 * the machine: `gantry info` names the one made (`Snapshotter`).
 */
import * as path from 'node:path';
import { failedPrecondition } from '../errdefs/errdefs';
import type { Logger } from '../util/log';
import type { LocalSnapshotter, LocalSnapshotterOptions } from './local';
import { NativeSnapshotter } from './native';
import { OverlaySnapshotter, type Support } from './overlay';

import type { SnapshotterChoice } from './choice';

export { isSnapshotterChoice, SNAPSHOTTER_CHOICES, type SnapshotterChoice } from './choice';

/** The start-up checks; tests replace the kernel's to force the fallback on a machine where it works. */
export interface SupportChecks {
  readonly overlay: (root: string) => Promise<Support>;
  readonly fuseOverlay: (root: string) => Promise<Support>;
}

const CHECKS: SupportChecks = {
  overlay: (root) => OverlaySnapshotter.supported(root),
  fuseOverlay: (root) => OverlaySnapshotter.fuseSupported(root),
};

export async function createSnapshotter(
  root: string,
  choice: SnapshotterChoice,
  log: Logger,
  options: Omit<LocalSnapshotterOptions, 'log'> = {},
  checks: SupportChecks = CHECKS,
): Promise<LocalSnapshotter> {
  const opts = { ...options, log };
  if (choice === 'native') return NativeSnapshotter.open(path.join(root, 'native'), opts);
  // Each in its own subdirectory: a switch starts from an empty snapshotter, the other's trees stay untouched.
  const overlayRoot = path.join(root, 'overlayfs');
  const fuseRoot = path.join(root, 'fuse-overlayfs');
  let kernel: Support | undefined;
  if (choice !== 'fuse-overlayfs') {
    kernel = await checks.overlay(overlayRoot);
    if (kernel.ok) {
      log.info('snapshotter: overlayfs', { root: overlayRoot });
      return OverlaySnapshotter.open(overlayRoot, opts);
    }
    if (choice === 'overlayfs') throw failedPrecondition(`the overlayfs snapshotter cannot be used: ${kernel.reason}`);
  }
  const fuse = await checks.fuseOverlay(fuseRoot);
  if (fuse.ok) {
    if (kernel && !kernel.ok) log.warn('snapshotter: fuse-overlayfs (kernel overlayfs cannot be used here)', { reason: kernel.reason });
    else log.info('snapshotter: fuse-overlayfs', { root: fuseRoot });
    return OverlaySnapshotter.open(fuseRoot, opts, 'fuse');
  }
  if (choice === 'fuse-overlayfs') throw failedPrecondition(`the fuse-overlayfs snapshotter cannot be used: ${fuse.reason}`);
  log.warn('snapshotter: native (copies every layer; slower and bigger than overlayfs)', {
    reason: kernel && !kernel.ok ? kernel.reason : '',
    fuseOverlayfs: fuse.reason,
  });
  return NativeSnapshotter.open(path.join(root, 'native'), opts);
}
