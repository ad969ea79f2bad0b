/**
 * Choosing the snapshotter at daemon start-up.
 *
 * `root` is the daemon's snapshots area (e.g. `<data root>/snapshots`); each
 * implementation lives in its own subdirectory (`overlayfs/`, `native/`),
 * because their trees are not interchangeable: an overlay layer holds only
 * its changes, a native one the whole tree. Switching implementation
 * therefore starts from an empty snapshotter (images are unpacked again);
 * the other's snapshots stay on disk untouched.
 *
 *   'overlayfs'  overlay, or FailedPrecondition saying why it cannot work here
 *   'native'     native, always
 *   'auto'       overlay when `OverlaySnapshotter.supported` says so, else
 *                native, with a log line giving the reason
 */
import * as path from 'node:path';
import { failedPrecondition } from '../errdefs/errdefs';
import type { Logger } from '../util/log';
import type { LocalSnapshotter, LocalSnapshotterOptions } from './local';
import { NativeSnapshotter } from './native';
import { OverlaySnapshotter } from './overlay';

export type SnapshotterChoice = 'overlayfs' | 'native' | 'auto';

export const SNAPSHOTTER_CHOICES: readonly SnapshotterChoice[] = ['overlayfs', 'native', 'auto'];

export function isSnapshotterChoice(value: string): value is SnapshotterChoice {
  return (SNAPSHOTTER_CHOICES as readonly string[]).includes(value);
}

export async function createSnapshotter(
  root: string,
  choice: SnapshotterChoice,
  log: Logger,
  options: Omit<LocalSnapshotterOptions, 'log'> = {},
): Promise<LocalSnapshotter> {
  const opts = { ...options, log };
  const overlayRoot = path.join(root, 'overlayfs');
  if (choice === 'native') return NativeSnapshotter.open(path.join(root, 'native'), opts);
  const support = await OverlaySnapshotter.supported(overlayRoot);
  if (support.ok) {
    log.info('snapshotter: overlayfs', { root: overlayRoot });
    return OverlaySnapshotter.open(overlayRoot, opts);
  }
  if (choice === 'overlayfs') throw failedPrecondition(`the overlayfs snapshotter cannot be used: ${support.reason}`);
  log.warn('snapshotter: native (copies every layer; slower and bigger than overlayfs)', { reason: support.reason });
  return NativeSnapshotter.open(path.join(root, 'native'), opts);
}
