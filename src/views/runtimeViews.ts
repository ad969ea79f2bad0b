/**
 * The Images and Containers views: Images lists the daemon's images
 * (views/images/), Containers its containers (views/containers/). Both
 * views show welcome content while not connected or empty, which depends on
 * the `gantry.connectionState` context key. The one thing a static welcome text cannot say — the exact
 * command to start the daemon on this machine — goes in the view's message.
 *
 * Every refresh goes through the RefreshManager; the views never poll.
 * The `gantry:` documents (inspect, logs) are registered here too, through
 * one router (VS Code takes one provider per scheme).
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { canStartRuntime, daemonArgv } from '../commands/runtime/startRuntime';
import type { CommandContext } from '../commands/registerCommands';
import { ContainerInspectDocuments } from './containers/containerDocuments';
import { ContainerLogDocuments } from './containers/containerLogs';
import { CONTAINERS_VIEW, ContainersTreeProvider } from './containers/containersTreeProvider';
import { GantryDocumentRouter } from './gantryDocuments';
import { GANTRY_SCHEME, GantryDocumentProvider } from './images/imageDocuments';
import { IMAGES_VIEW, ImagesTreeProvider } from './images/imagesTreeProvider';
import { RefreshManager } from './refreshManager';

/** The views' data, shared with the commands (CommandContext.views) and the test API. */
export interface GantryViews {
  readonly images: ImagesTreeProvider;
  readonly containers: ContainersTreeProvider;
  /** The `gantry:/container/<id>/<name>.log` documents. */
  readonly logs: ContainerLogDocuments;
  readonly refresh: RefreshManager;
}

/** Creates the providers and their RefreshManager; disposing the result disposes all of them. */
export function createGantryViews(connection: RuntimeConnection, log: vscode.LogOutputChannel): GantryViews & vscode.Disposable {
  const refresh = new RefreshManager(connection, log);
  const images = new ImagesTreeProvider(connection, log);
  const containers = new ContainersTreeProvider(connection, log);
  const logs = new ContainerLogDocuments(connection, log);
  const registrations = [refresh.register(IMAGES_VIEW, images), refresh.register(CONTAINERS_VIEW, containers)];
  return {
    images,
    containers,
    logs,
    refresh,
    dispose: () => {
      for (const r of registrations) r.dispose();
      refresh.dispose();
      images.dispose();
      containers.dispose();
      logs.dispose();
    },
  };
}

export function registerRuntimeViews(context: CommandContext, connection: RuntimeConnection): void {
  const imagesView = vscode.window.createTreeView(IMAGES_VIEW, {
    treeDataProvider: context.views.images,
    canSelectMany: true,
    showCollapseAll: true,
  });
  const containersView = vscode.window.createTreeView(CONTAINERS_VIEW, {
    treeDataProvider: context.views.containers,
    canSelectMany: true,
  });
  const views = [imagesView, containersView];
  // The log documents belong to the views (tests read them there), so the router must not dispose them.
  const logs = context.views.logs;
  const documents = new GantryDocumentRouter([
    { matches: (uri) => uri.path.startsWith('/image/'), provider: new GantryDocumentProvider(connection) },
    { matches: ContainerInspectDocuments.matches, provider: new ContainerInspectDocuments(connection) },
    { matches: ContainerLogDocuments.matches, provider: { provideTextDocumentContent: (uri) => logs.provideTextDocumentContent(uri), onDidChange: logs.onDidChange, dispose: () => undefined } },
  ]);

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
