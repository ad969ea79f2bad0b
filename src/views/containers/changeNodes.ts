/**
 * A container's changes in the Containers view: a "Changes" node under each
 * container whose files the daemon can reach, listing what it added (A),
 * changed (C) and deleted (D) against its image — `gantry diff`, asked when
 * the node is expanded (docs/files.md). Each change is drawn as source
 * control draws one: the letter as description, the added/modified/deleted
 * colours; an added or changed file opens read from the container.
 */
import * as vscode from 'vscode';
import { ChangeKind, FileType, type ContainerSummary, type FileChange } from '../../../runtime/client';
import { containerFileUri } from '../../files/containerFileUris';

/** The container's "Changes" node (contextValue `containerChanges`). */
export interface ContainerChangesNode {
  readonly kind: 'containerChanges';
  readonly containerId: string;
  readonly containerName: string;
}

/** One changed path (contextValue `containerChange`). */
export interface ContainerChangeNode {
  readonly kind: 'containerChange';
  readonly containerId: string;
  readonly change: FileChange;
}

export function changesNode(container: ContainerSummary): ContainerChangesNode {
  return { kind: 'containerChanges', containerId: container.id, containerName: container.name };
}

export function changeNodes(containerId: string, changes: readonly FileChange[]): ContainerChangeNode[] {
  return changes.map((change) => ({ kind: 'containerChange', containerId, change }));
}

const LOOK: Record<number, { letter: string; color: string; label: string }> = {
  [ChangeKind.CHANGE_KIND_ADDED]: { letter: 'A', color: 'gitDecoration.addedResourceForeground', label: 'added' },
  [ChangeKind.CHANGE_KIND_MODIFIED]: { letter: 'C', color: 'gitDecoration.modifiedResourceForeground', label: 'changed' },
  [ChangeKind.CHANGE_KIND_DELETED]: { letter: 'D', color: 'gitDecoration.deletedResourceForeground', label: 'deleted' },
};

/** The letter `gantry diff` prints for a change. */
export function changeLetter(change: FileChange): string {
  return LOOK[change.kind]?.letter ?? '?';
}

export function changesRootItem(node: ContainerChangesNode): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.l10n.t('Changes'), vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `containerChanges:${node.containerId}`;
  item.contextValue = 'containerChanges';
  item.iconPath = new vscode.ThemeIcon('diff');
  item.tooltip = vscode.l10n.t('What {0} added, changed and deleted against its image', node.containerName);
  return item;
}

export function changeItem(node: ContainerChangeNode): vscode.TreeItem {
  const { change } = node;
  const look = LOOK[change.kind] ?? { letter: '?', color: '', label: '' };
  const item = new vscode.TreeItem(change.path, vscode.TreeItemCollapsibleState.None);
  item.id = `containerChange:${node.containerId}:${change.path}`;
  item.contextValue = 'containerChange';
  item.description = look.letter;
  const folder = change.type === FileType.FILE_TYPE_DIRECTORY;
  const icon = change.kind === ChangeKind.CHANGE_KIND_DELETED ? 'diff-removed' : folder ? 'folder' : 'file';
  item.iconPath = new vscode.ThemeIcon(icon, look.color ? new vscode.ThemeColor(look.color) : undefined);
  item.tooltip = `${look.letter} ${change.path} (${look.label})`;
  item.accessibilityInformation = { label: `${change.path}, ${look.label}` };
  if (change.kind !== ChangeKind.CHANGE_KIND_DELETED && change.type === FileType.FILE_TYPE_FILE) {
    const uri = containerFileUri(node.containerId, change.path);
    item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri] };
  }
  return item;
}
