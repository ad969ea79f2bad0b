/**
 * Tree items of the Images view, built from a node alone (so from the list
 * record alone). The tooltip is left unset: the provider's resolveTreeItem
 * fills it in with inspect details when the user hovers.
 *
 * contextValue: `image`, `danglingImage`, `imageRepository`, `imagesError`,
 * `imagesRetry`, `imagesNoMatch` (menus match them with `viewItem`).
 * id: stable per record name (`image:<name>`) or repository, so selection
 * and expansion survive refreshes.
 */
import * as vscode from 'vscode';
import { formatAgo, formatSize, shortId } from '../../../runtime/presentation';
import { imageLabel, isDangling, type ImageNode, type ImageRepositoryNode, type ImageTreeNode } from './imageNodes';
import { messageTreeItem } from '../viewFilter';
import { layerChangeItem, layerTreeItem } from './layerTreeItems';

export function imageTreeItem(node: ImageTreeNode): vscode.TreeItem {
  switch (node.kind) {
    case 'repository':
      return repositoryItem(node);
    case 'image':
      return imageItem(node);
    case 'message':
      return messageTreeItem('images', node);
    case 'imageLayer':
      return layerTreeItem(node);
    case 'layerChange':
      return layerChangeItem(node);
  }
}

function repositoryItem(node: ImageRepositoryNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `repository:${node.repository}`;
  item.contextValue = 'imageRepository';
  item.iconPath = new vscode.ThemeIcon('repo');
  item.tooltip = node.repository;
  return item;
}

function imageItem(node: ImageNode): vscode.TreeItem {
  const { image } = node;
  const dangling = isDangling(image);
  const label = node.grouped ? (node.tag ?? '<none>') : imageLabel(image);
  // Expands into its layers (docs/layers.md).
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `image:${image.name}`;
  item.contextValue = dangling ? 'danglingImage' : 'image';
  item.iconPath = new vscode.ThemeIcon(dangling ? 'layers-dot' : 'layers');
  // formatAgo is coarse ("2 weeks ago"), so descriptions do not change on every refresh.
  const details = [formatSize(image.size), formatAgo(image.created || image.recordedAt)];
  if (dangling) details.unshift(shortId(image.target?.digest ?? ''));
  item.description = details.join(' · ');
  item.accessibilityInformation = { label: `${imageLabel(image)}, ${details.join(', ')}` };
  return item;
}
