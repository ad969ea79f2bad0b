/**
 * The `--snapshotter` values (select.ts makes the snapshotter). Apart from
 * select.ts so that checking a flag does not load the snapshotters: the
 * outer process of a rootless start checks its flags and never runs one
 * (docs/performance.md, "gantryd's memory").
 */
export type SnapshotterChoice = 'overlayfs' | 'fuse-overlayfs' | 'native' | 'auto';

export const SNAPSHOTTER_CHOICES: readonly SnapshotterChoice[] = ['overlayfs', 'fuse-overlayfs', 'native', 'auto'];

export function isSnapshotterChoice(value: string): value is SnapshotterChoice {
  return (SNAPSHOTTER_CHOICES as readonly string[]).includes(value);
}
