/**
 * The nodes of the Volumes view, computed from one `volumes.list(withSize)`
 * (each volume carries its size and the containers using it): no node asks
 * the daemon for anything more, except a folder's entries when the user
 * expands it (the files service, as the Containers view's Files do). No VS
 * Code imports: tree items are built in volumeTreeItems.ts.
 *
 * Nodes
 *   volume        one volume; expands into the root of its files.
 *                 contextValue `volumeInUse` (a container references it:
 *                 Remove is refused by the daemon) or `volume`
 *   volumeFile    a file or folder inside a volume (`volumeFolder` /
 *                 `volumeFile`), opened through `gantry-files://volume/…`
 *   message       an error listing, the Retry under it
 *
 * Order: named volumes by name, then anonymous ones by name.
 */
import type { DirectoryEntry, Volume } from '../../../runtime/client';
import { formatSize } from '../../../runtime/presentation';
import { fileNodes } from '../containers/fileNodes';
import type { MessageNode } from '../viewFilter';

export interface VolumeNode {
  readonly kind: 'volume';
  readonly volume: Volume;
}

export interface VolumeFileNode {
  readonly kind: 'volumeFile';
  readonly volume: string;
  /** Absolute path inside the volume. */
  readonly path: string;
  readonly name: string;
  readonly folder: boolean;
  readonly linkTarget?: string;
}

export type VolumesMessageNode = MessageNode<'volumes'>;
export type VolumeTreeNode = VolumeNode | VolumeFileNode | VolumesMessageNode;

export function isVolumeNode(value: unknown): value is VolumeNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'volume' &&
    typeof (value as VolumeNode).volume?.name === 'string'
  );
}

export function volumeContextValue(volume: Volume): 'volume' | 'volumeInUse' {
  return volume.users.length ? 'volumeInUse' : 'volume';
}

export function arrangeVolumes(volumes: readonly Volume[]): VolumeNode[] {
  return [...volumes]
    .sort((a, b) => Number(a.anonymous) - Number(b.anonymous) || a.name.localeCompare(b.name))
    .map((volume) => ({ kind: 'volume', volume }));
}

/** "12.3kB · web, api", "0B · unused"; anonymous volumes say so. */
export function volumeDescription(volume: Volume): string {
  const size = volume.size >= 0 ? formatSize(volume.size) : '';
  const users = volume.users.length ? volume.users.map((u) => u.name).join(', ') : 'unused';
  return [size, users, volume.anonymous ? 'anonymous' : ''].filter(Boolean).join(' · ');
}

/** Rows of the tooltip. */
export function volumeDetails(volume: Volume): [string, string][] {
  const rows: [string, string][] = [
    ['Driver', volume.driver],
    ['Mountpoint', volume.mountpoint],
    ['Size', volume.size >= 0 ? formatSize(volume.size) : '?'],
    ['Created', volume.createdAt ? volume.createdAt.toISOString() : ''],
    ['Used by', volume.users.length ? volume.users.map((u) => u.name).join(', ') : 'no container'],
  ];
  for (const [k, v] of Object.entries(volume.labels)) rows.push([`Label ${k}`, v]);
  for (const [k, v] of Object.entries(volume.options)) rows.push([`Option ${k}`, v]);
  return rows;
}

/** A folder's entries in a volume, ordered as a container's (folders first, then by name). */
export function volumeFileNodes(volume: string, dir: string, entries: readonly DirectoryEntry[]): VolumeFileNode[] {
  return fileNodes('', dir, entries).map((n) => ({
    kind: 'volumeFile',
    volume,
    path: n.path,
    name: n.name,
    folder: n.folder,
    ...(n.linkTarget !== undefined ? { linkTarget: n.linkTarget } : {}),
  }));
}
