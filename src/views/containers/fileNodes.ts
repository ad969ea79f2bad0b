/**
 * A container's files in the Containers view: a "Files" node under each
 * container that is not being stopped, removed or dead, then its folders
 * listed lazily from the daemon's files service (docs/files.md) — nothing
 * is listed until the user expands a folder, and nothing runs in the
 * container. Folders come first, then files, each by name; a link shows
 * where it points, and a link to a folder opens like one. No VS Code
 * imports (tree items: containerTreeItems.ts).
 */
import { FileType, type ContainerSummary, type DirectoryEntry } from '../../../runtime/client';
import { containerState } from './containerNodes';

/** The container's "Files" node (contextValue `containerFiles`). */
export interface ContainerFilesNode {
  readonly kind: 'containerFiles';
  readonly containerId: string;
  readonly containerName: string;
}

/** An entry of a folder inside a container (contextValue `containerFile` / `containerFolder`). */
export interface ContainerFileNode {
  readonly kind: 'containerFile';
  readonly containerId: string;
  /** Absolute path inside the container. */
  readonly path: string;
  readonly name: string;
  /** A folder, or a link to one: it expands. */
  readonly folder: boolean;
  /** A symlink's target as written. */
  readonly linkTarget?: string;
}

/** Whether a container offers its files: any state the daemon can reach them in. */
export function hasFiles(container: ContainerSummary): boolean {
  return containerState(container.status) !== 'dead';
}

export function filesNode(container: ContainerSummary): ContainerFilesNode {
  return { kind: 'containerFiles', containerId: container.id, containerName: container.name };
}

export function joinContainerPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** A folder's entries as nodes: folders (and links to them) first, then the rest, each by name. */
export function fileNodes(containerId: string, dir: string, entries: readonly DirectoryEntry[]): ContainerFileNode[] {
  return entries
    .map((e): ContainerFileNode => {
      const link = e.type === FileType.FILE_TYPE_SYMLINK;
      const folder = e.type === FileType.FILE_TYPE_DIRECTORY || (link && e.targetType === FileType.FILE_TYPE_DIRECTORY);
      return {
        kind: 'containerFile',
        containerId,
        path: joinContainerPath(dir, e.name),
        name: e.name,
        folder,
        ...(link ? { linkTarget: e.linkTarget ?? '' } : {}),
      };
    })
    .sort((a, b) => Number(b.folder) - Number(a.folder) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function isContainerFileNode(value: unknown): value is ContainerFileNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'containerFile';
}
