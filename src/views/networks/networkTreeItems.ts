/**
 * Tree items of the Networks view, built from a node alone. A network's
 * tooltip needs no further call: the list record has everything it shows.
 *
 * contextValue: `builtinNetwork`, `readOnlyNetwork`, `network` (see
 * networkNodes.ts), `networkContainer`, `networksError`, `networksRetry`.
 * id: `network:<id>` and `network:<id>/<container id>`, so selection and
 * expansion survive refreshes.
 */
import * as vscode from 'vscode';
import { mdCode, mdEscape } from '../markdown';
import { messageTreeItem } from '../viewFilter';
import {
  networkContextValue,
  networkDescription,
  networkDetails,
  type NetworkMemberNode,
  type NetworkNode,
  type NetworkTreeNode,
} from './networkNodes';

export function networkTreeItem(node: NetworkTreeNode): vscode.TreeItem {
  switch (node.kind) {
    case 'network':
      return networkItem(node);
    case 'networkContainer':
      return memberItem(node);
    case 'message':
      return messageTreeItem('networks', node);
  }
}

function networkItem(node: NetworkNode): vscode.TreeItem {
  const { network } = node;
  const item = new vscode.TreeItem(
    network.name,
    node.members.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `network:${network.id}`;
  item.contextValue = networkContextValue(network);
  item.iconPath = new vscode.ThemeIcon(network.builtin ? 'globe' : network.internal ? 'lock' : 'type-hierarchy-sub');
  item.description = networkDescription(network);
  item.accessibilityInformation = { label: `${network.name}, ${item.description}` };
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${mdEscape(network.name)}**\n\n| | |\n|:--|:--|\n`);
  for (const [key, value] of networkDetails(network)) {
    const shown = key === 'ID' || key === 'Subnet' || key === 'Gateway' || key === 'Bridge' ? mdCode(value) : mdEscape(value);
    md.appendMarkdown(`| ${mdEscape(key)} | ${shown} |\n`);
  }
  if (node.members.length) {
    md.appendMarkdown(`\n**${mdEscape(vscode.l10n.t('Containers'))}:** ${node.members.map((m) => mdEscape(m.name)).join(', ')}\n`);
  }
  item.tooltip = md;
  return item;
}

function memberItem(node: NetworkMemberNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
  item.id = `network:${node.network}/${node.containerId}`;
  item.contextValue = 'networkContainer';
  item.iconPath = new vscode.ThemeIcon('vm-running', new vscode.ThemeColor('testing.iconPassed'));
  item.description = node.address || undefined;
  item.tooltip = node.address
    ? vscode.l10n.t('{0} on {1}: {2}', node.name, node.network, node.address)
    : vscode.l10n.t('{0} on {1}', node.name, node.network);
  return item;
}
