/**
 * Tree items of the Volumes view, built from a node alone (the list record
 * has everything a tooltip shows). A volume's files open through
 * `gantry-files://volume/<name>/…` (src/files/containerFileUris.ts).
 *
 * id: `volume:<name>` and `volumeFile:<name>:<path>`, so selection and
 * expansion survive refreshes.
 */
import * as vscode from 'vscode';
import { volumeFileUri } from '../../files/containerFileUris';
import { mdCode, mdEscape } from '../markdown';
import { messageTreeItem } from '../viewFilter';
import {
  volumeContextValue,
  volumeDescription,
  volumeDetails,
  type VolumeFileNode,
  type VolumeNode,
  type VolumeTreeNode,
} from './volumeNodes';

export function volumeTreeItem(node: VolumeTreeNode): vscode.TreeItem {
  switch (node.kind) {
    case 'volume':
      return volumeItem(node);
    case 'volumeFile':
      return fileItem(node);
    case 'message':
      return messageTreeItem('volumes', node);
  }
}

function volumeItem(node: VolumeNode): vscode.TreeItem {
  const { volume } = node;
  const item = new vscode.TreeItem(volume.anonymous ? volume.name.slice(0, 12) : volume.name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `volume:${volume.name}`;
  item.contextValue = volumeContextValue(volume);
  item.iconPath = new vscode.ThemeIcon('database');
  item.resourceUri = volumeFileUri(volume.name, '/');
  item.description = volumeDescription(volume);
  item.accessibilityInformation = { label: `${volume.name}, ${item.description}` };
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${mdEscape(volume.name)}**\n\n| | |\n|:--|:--|\n`);
  for (const [key, value] of volumeDetails(volume)) {
    md.appendMarkdown(`| ${mdEscape(key)} | ${key === 'Mountpoint' ? mdCode(value) : mdEscape(value)} |\n`);
  }
  item.tooltip = md;
  return item;
}

function fileItem(node: VolumeFileNode): vscode.TreeItem {
  const uri = volumeFileUri(node.volume, node.path);
  const item = new vscode.TreeItem(uri, node.folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.label = node.name;
  item.id = `volumeFile:${node.volume}:${node.path}`;
  item.contextValue = node.folder ? 'volumeFolder' : 'volumeFile';
  item.iconPath = node.folder ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
  if (node.linkTarget !== undefined) item.description = `→ ${node.linkTarget}`;
  item.tooltip = node.linkTarget !== undefined ? `${node.path} → ${node.linkTarget}` : node.path;
  if (!node.folder) item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri] };
  return item;
}
