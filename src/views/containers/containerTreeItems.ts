/**
 * Tree items of the Containers view, built from a node alone (so from the
 * list record alone, and the operation in flight on it) and the clock. The
 * tooltip is left unset: the provider's resolveTreeItem fills it in with
 * inspect details when the user hovers.
 *
 * contextValue: `<state>Container` or `busy<Operation>Container` (see
 * containerNodes.ts), `containerPort` / `containerUdpPort` (a published
 * port, child of a running container), `containersError`,
 * `containersRetry`, `containersNoMatch`. id: `container:<id>:<state>`, so a state change is a
 * new item (new icon, new menus) while a refresh that changes nothing keeps
 * the selection.
 */
import * as vscode from 'vscode';
import { containerPortName, hostAddress } from '../../../runtime/presentation';
import {
  containerDescription,
  containerIcon,
  containerTreeId,
  contextValueOf,
  portNodes,
  type ContainerNode,
  type ContainerPortNode,
  type ContainerTreeNode,
} from './containerNodes';
import { messageTreeItem } from '../viewFilter';

export function containerTreeItem(node: ContainerTreeNode, now: number): vscode.TreeItem {
  switch (node.kind) {
    case 'container':
      return containerItem(node, now);
    case 'containerPort':
      return portItem(node);
    case 'message':
      return messageTreeItem('containers', node);
  }
}

function containerItem(node: ContainerNode, now: number): vscode.TreeItem {
  const { container } = node;
  // A running container with published ports opens onto them (Open in Browser, Copy Address).
  const hasPorts = !node.operation && portNodes(container).length > 0;
  const item = new vscode.TreeItem(
    container.name,
    hasPorts ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = containerTreeId(container);
  item.contextValue = contextValueOf(container, node.operation);
  const icon = containerIcon(container, node.operation);
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.description = containerDescription(container, now, node.operation);
  item.accessibilityInformation = { label: `${container.name}, ${item.description}` };
  return item;
}

/** "8080 → 80/tcp", described by the host address ("0.0.0.0:8080"). */
function portItem(node: ContainerPortNode): vscode.TreeItem {
  const { binding } = node;
  const item = new vscode.TreeItem(`${binding.hostPort} → ${containerPortName(binding)}`, vscode.TreeItemCollapsibleState.None);
  item.id = `containerPort:${node.containerId}:${binding.hostIp}:${binding.hostPort}/${binding.protocol || 'tcp'}`;
  // UDP has no page to open: its item offers Copy Address only.
  item.contextValue = (binding.protocol || 'tcp') === 'tcp' ? 'containerPort' : 'containerUdpPort';
  item.iconPath = new vscode.ThemeIcon('plug');
  item.description = hostAddress(binding);
  item.tooltip = vscode.l10n.t(
    "{0} of {1} is published on {2} of the daemon's host",
    containerPortName(binding),
    node.containerName,
    hostAddress(binding),
  );
  return item;
}
