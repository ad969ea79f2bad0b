/**
 * Tree items of the Containers view, built from a node alone (so from the
 * list record alone, and the operation in flight on it) and the clock. The
 * tooltip is left unset: the provider's resolveTreeItem fills it in with
 * inspect details when the user hovers.
 *
 * contextValue: `<state>Container` or `busy<Operation>Container` (see
 * containerNodes.ts), `containerPort` / `containerUdpPort` (a published
 * port, child of a running container), `containersError`,
 * `containersRetry`, `containersNoMatch`, `<state>PodContainer` and
 * `readyPod` / `notReadyPod` (Kubernetes pods: podNodes.ts). id:
 * `container:<id>:<state>`, so a state change is a
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
import { containerFileUri } from '../../files/containerFileUris';
import { hasFiles, type ContainerFileNode, type ContainerFilesNode } from './fileNodes';
import { changeItem, changesRootItem } from './changeNodes';
import { containerLabel, podContextValue, podDescription, podIcon, podLabel, podTooltip, podTreeId, type PodNode } from './podNodes';

export function containerTreeItem(node: ContainerTreeNode, now: number): vscode.TreeItem {
  switch (node.kind) {
    case 'container':
      return containerItem(node, now);
    case 'containerPort':
      return portItem(node);
    case 'containerFiles':
      return filesRootItem(node);
    case 'containerFile':
      return fileItem(node);
    case 'containerChanges':
      return changesRootItem(node);
    case 'containerChange':
      return changeItem(node);
    case 'pod':
      return podItem(node);
    case 'message':
      return messageTreeItem('containers', node);
  }
}

/** "team/web", described "Ready · 1 container"; open, so its containers show at once (as Compose groups in Docker's view). */
function podItem(node: PodNode): vscode.TreeItem {
  const item = new vscode.TreeItem(
    podLabel(node),
    node.containers.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
  );
  item.id = podTreeId(node);
  item.contextValue = podContextValue(node);
  const icon = podIcon(node);
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.description = podDescription(node);
  item.tooltip = podTooltip(node);
  item.accessibilityInformation = { label: vscode.l10n.t('Pod {0}, {1}', podLabel(node), item.description) };
  return item;
}

function containerItem(node: ContainerNode, now: number): vscode.TreeItem {
  const { container } = node;
  // A container opens onto its published ports (Open in Browser, Copy Address) and its files.
  const hasChildren = !node.operation && (portNodes(container).length > 0 || hasFiles(container));
  const item = new vscode.TreeItem(
    containerLabel(container),
    hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = containerTreeId(container);
  item.contextValue = contextValueOf(container, node.operation);
  const icon = containerIcon(container, node.operation);
  item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
  item.description = containerDescription(container, now, node.operation);
  item.accessibilityInformation = { label: `${containerLabel(container)}, ${item.description}` };
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

/** "Files": the container's root folder, listed when expanded. */
function filesRootItem(node: ContainerFilesNode): vscode.TreeItem {
  const item = new vscode.TreeItem(vscode.l10n.t('Files'), vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `containerFiles:${node.containerId}`;
  item.contextValue = 'containerFiles';
  item.iconPath = new vscode.ThemeIcon('files');
  item.resourceUri = containerFileUri(node.containerId, '/');
  item.tooltip = vscode.l10n.t('The files of {0}, read by the runtime (nothing runs in the container)', node.containerName);
  return item;
}

/**
 * A file or folder: the resourceUri gives it the file icon theme's icon
 * and its label; a file opens in an editor on click.
 */
function fileItem(node: ContainerFileNode): vscode.TreeItem {
  const uri = containerFileUri(node.containerId, node.path);
  const item = new vscode.TreeItem(uri, node.folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.label = node.name;
  item.id = `containerFile:${node.containerId}:${node.path}`;
  item.contextValue = node.folder ? 'containerFolder' : 'containerFile';
  item.iconPath = node.folder ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
  if (node.linkTarget !== undefined) item.description = `→ ${node.linkTarget}`;
  item.tooltip = node.linkTarget !== undefined ? `${node.path} → ${node.linkTarget}` : node.path;
  if (!node.folder) item.command = { command: 'vscode.open', title: vscode.l10n.t('Open'), arguments: [uri] };
  return item;
}
