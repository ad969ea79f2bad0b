/**
 * The Images and Containers views. Images lists the daemon's images
 * (views/images/); Containers lists nothing yet (its API comes with a later
 * issue), so VS Code shows its welcome content. Both views show welcome
 * content while not connected, which depends on the `gantry.connectionState`
 * context key. The one thing a static welcome text cannot say — the exact
 * command to start the daemon on this machine — goes in the view's message.
 *
 * Every refresh goes through the RefreshManager; the views never poll.
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { canStartRuntime, daemonArgv } from '../commands/runtime/startRuntime';
import type { CommandContext } from '../commands/registerCommands';
import { GANTRY_SCHEME, GantryDocumentProvider } from './images/imageDocuments';
import { IMAGES_VIEW, ImagesTreeProvider } from './images/imagesTreeProvider';
import { RefreshManager } from './refreshManager';

/** The views' data, shared with the commands (CommandContext.views) and the test API. */
export interface GantryViews {
  readonly images: ImagesTreeProvider;
  readonly refresh: RefreshManager;
}

/** Creates the providers and their RefreshManager; disposing the result disposes all of them. */
export function createGantryViews(connection: RuntimeConnection, log: vscode.LogOutputChannel): GantryViews & vscode.Disposable {
  const refresh = new RefreshManager(connection, log);
  const images = new ImagesTreeProvider(connection, log);
  const registration = refresh.register(IMAGES_VIEW, images);
  return {
    images,
    refresh,
    dispose: () => {
      registration.dispose();
      refresh.dispose();
      images.dispose();
    },
  };
}

class EmptyTreeDataProvider implements vscode.TreeDataProvider<never> {
  getTreeItem(element: never): vscode.TreeItem {
    return element;
  }
  getChildren(): never[] {
    return [];
  }
}

export function registerRuntimeViews(context: CommandContext, connection: RuntimeConnection): void {
  const imagesView = vscode.window.createTreeView(IMAGES_VIEW, {
    treeDataProvider: context.views.images,
    canSelectMany: true,
    showCollapseAll: true,
  });
  const containersView = vscode.window.createTreeView('gantry.containers', {
    treeDataProvider: new EmptyTreeDataProvider(),
    canSelectMany: true,
  });
  const views = [imagesView, containersView];
  const documents = new GantryDocumentProvider(connection);

  const render = (snapshot: ConnectionSnapshot) => {
    void vscode.commands.executeCommand('setContext', 'gantry.connectionState', snapshot.state);
    void vscode.commands.executeCommand('setContext', 'gantry.canStartRuntime', canStartRuntime());
    const message = snapshot.state === 'disconnected' && !canStartRuntime()
      ? vscode.l10n.t('Start gantryd as root: sudo {0}', daemonArgv(context, snapshot.socket).join(' '))
      : undefined;
    for (const view of views) view.message = message;
  };
  const showFilter = (filter: string) => {
    imagesView.description = filter ? vscode.l10n.t('filter: {0}', filter) : undefined;
  };
  render(connection.current);
  showFilter(context.views.images.filter);
  void vscode.commands.executeCommand('setContext', 'gantry.images.filtered', context.views.images.filter !== '');

  context.extension.subscriptions.push(
    ...views,
    documents,
    vscode.workspace.registerTextDocumentContentProvider(GANTRY_SCHEME, documents),
    connection.onDidChange(render),
    context.views.images.onDidChangeFilter(showFilter),
  );
}
