/** Tree items of the Registries view, built from a node alone (ids and context values: registryNodes.ts). */
import * as vscode from 'vscode';
import { messageTreeItem } from '../viewFilter';
import { repositoryName, tagReference, type RegistryTreeNode } from './registryNodes';

export function registryTreeItem(node: RegistryTreeNode): vscode.TreeItem {
  switch (node.kind) {
    case 'registry': {
      const { login } = node;
      const item = new vscode.TreeItem(login.server, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `registry:${login.server}`;
      item.contextValue = 'registry';
      item.iconPath = new vscode.ThemeIcon('server');
      const who = login.username || (login.helper ? vscode.l10n.t('via {0}', `docker-credential-${login.helper}`) : '');
      item.description = who || undefined;
      item.tooltip = [login.server, who, vscode.l10n.t('config key: {0}', login.configKey)].filter(Boolean).join('\n');
      return item;
    }
    case 'repository': {
      const item = new vscode.TreeItem(node.path, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `registry:${repositoryName(node)}`;
      item.contextValue = node.local ? 'registryLocalRepository' : 'registryRepository';
      item.iconPath = new vscode.ThemeIcon(node.local ? 'device-desktop' : 'repo');
      item.description = node.local ? vscode.l10n.t('seen locally') : undefined;
      item.tooltip = node.local
        ? vscode.l10n.t('{0}\nThe registry does not list its repositories; this one is named by a local image.', repositoryName(node))
        : repositoryName(node);
      return item;
    }
    case 'tag': {
      const item = new vscode.TreeItem(node.tag, vscode.TreeItemCollapsibleState.None);
      item.id = `registry:${tagReference(node)}`;
      item.contextValue = 'registryTag';
      item.iconPath = new vscode.ThemeIcon('tag');
      item.tooltip = tagReference(node);
      return item;
    }
    case 'notice': {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      item.contextValue = 'registriesNotice';
      item.iconPath = new vscode.ThemeIcon('info');
      item.tooltip = node.tooltip;
      return item;
    }
    case 'message':
      return messageTreeItem('registries', node);
  }
}
