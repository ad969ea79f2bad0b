/**
 * Tree items of the Containers view, built from a node alone (so from the
 * list record alone, and the operation in flight on it) and the clock. The
 * tooltip is left unset: the provider's resolveTreeItem fills it in with
 * inspect details when the user hovers.
 *
 * contextValue: `<state>Container` or `busy<Operation>Container` (see
 * containerNodes.ts), `containersError`, `containersRetry`, `containersNoMatch`. id: `container:<id>:<state>`, so a state change is a
 * new item (new icon, new menus) while a refresh that changes nothing keeps
 * the selection.
 */
import * as vscode from 'vscode';
import {
  containerDescription,
  containerIcon,
  containerTreeId,
  contextValueOf,
  type ContainerNode,
  type ContainerTreeNode,
} from './containerNodes';
import { messageTreeItem } from '../viewFilter';

export function containerTreeItem(node: ContainerTreeNode, now: number): vscode.TreeItem {
  return node.kind === 'container' ? containerItem(node, now) : messageTreeItem('containers', node);
}

function containerItem(node: ContainerNode, now: number): vscode.TreeItem {
  const { container } = node;
  const item = new vscode.TreeItem(container.name, vscode.TreeItemCollapsibleState.None);
  item.id = containerTreeId(container);
  item.contextValue = contextValueOf(container, node.operation);
  const icon = containerIcon(container, node.operation);
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.description = containerDescription(container, now, node.operation);
  item.accessibilityInformation = { label: `${container.name}, ${item.description}` };
  return item;
}
