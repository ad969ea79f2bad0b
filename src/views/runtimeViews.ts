/**
 * The Images and Containers views: Images lists the daemon's images
 * (views/images/), Containers its containers (views/containers/). Both
 * views show welcome content while not connected or empty, which depends on
 * the `gantry.connectionState` and `gantry.remote` context keys. What a
 * static welcome text cannot say goes in the view's message: the exact
 * command to start the daemon on this machine, the step a remote connect is
 * at, and why the link to a remote host failed. While connected to a remote
 * host, each view's description names it.
 *
 * Every refresh goes through the RefreshManager; the views never poll.
 * The `gantry:` documents (inspect, logs, stats) are registered here too, through
 * one router (VS Code takes one provider per scheme).
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { canStartRuntime, daemonArgv } from '../commands/runtime/startRuntime';
import { shortHostLabel } from '../hosts/hostChoice';
import type { CommandContext } from '../commands/registerCommands';
import { ContainerInspectDocuments } from './containers/containerDocuments';
import { ContainerLogDocuments } from './containers/containerLogs';
import { ContainerStatsDocuments } from './containers/containerStats';
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
  /** The `gantry:/container/<id>/<name>.stats` documents. */
  readonly stats: ContainerStatsDocuments;
  readonly refresh: RefreshManager;
}

/** Creates the providers and their RefreshManager; disposing the result disposes all of them. */
export function createGantryViews(connection: RuntimeConnection, log: vscode.LogOutputChannel): GantryViews & vscode.Disposable {
  const refresh = new RefreshManager(connection, log);
  const images = new ImagesTreeProvider(connection, log);
  const containers = new ContainersTreeProvider(connection, log);
  const logs = new ContainerLogDocuments(connection, log);
  const stats = new ContainerStatsDocuments(connection, log);
  const registrations = [refresh.register(IMAGES_VIEW, images), refresh.register(CONTAINERS_VIEW, containers)];
  return {
    images,
    containers,
    logs,
    stats,
    refresh,
    dispose: () => {
      for (const r of registrations) r.dispose();
      refresh.dispose();
      images.dispose();
      containers.dispose();
      logs.dispose();
      stats.dispose();
    },
  };
}

/** What the views show besides their items: for tests. */
export interface RuntimeViewsState {
  readonly descriptions: { readonly images: string | undefined; readonly containers: string | undefined };
  readonly message: string | undefined;
}

export function registerRuntimeViews(context: CommandContext, connection: RuntimeConnection): RuntimeViewsState {
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
  const { logs, stats } = context.views;
  const documents = new GantryDocumentRouter([
    { matches: (uri) => uri.path.startsWith('/image/'), provider: new GantryDocumentProvider(connection) },
    { matches: ContainerInspectDocuments.matches, provider: new ContainerInspectDocuments(connection) },
    { matches: ContainerLogDocuments.matches, provider: { provideTextDocumentContent: (uri) => logs.provideTextDocumentContent(uri), onDidChange: logs.onDidChange, dispose: () => undefined } },
    { matches: ContainerStatsDocuments.matches, provider: { provideTextDocumentContent: (uri) => stats.provideTextDocumentContent(uri), onDidChange: stats.onDidChange, dispose: () => undefined } },
  ]);

  let host: string | undefined;
  let filter = context.views.images.filter;
  let containersFilter = context.views.containers.filter;
  const describeViews = () => {
    const where = host ? shortHostLabel(host) : undefined;
    imagesView.description = [where, filter ? vscode.l10n.t('filter: {0}', filter) : undefined].filter(Boolean).join(' · ') || undefined;
    containersView.description = [where, containersFilter ? vscode.l10n.t('filter: {0}', containersFilter) : undefined].filter(Boolean).join(' · ') || undefined;
  };
  const render = (snapshot: ConnectionSnapshot) => {
    void vscode.commands.executeCommand('setContext', 'gantry.connectionState', snapshot.state);
    void vscode.commands.executeCommand('setContext', 'gantry.remote', snapshot.host !== undefined);
    void vscode.commands.executeCommand('setContext', 'gantry.canStartRuntime', canStartRuntime());
    const message = viewMessage(context, snapshot);
    for (const view of views) view.message = message;
    host = snapshot.host;
    describeViews();
  };
  const showFilter = (value: string) => {
    filter = value;
    describeViews();
  };
  render(connection.current);
  void vscode.commands.executeCommand('setContext', 'gantry.images.filtered', context.views.images.filter !== '');
  void vscode.commands.executeCommand('setContext', 'gantry.containers.filtered', context.views.containers.filter !== '');

  context.extension.subscriptions.push(
    ...views,
    documents,
    vscode.workspace.registerTextDocumentContentProvider(GANTRY_SCHEME, documents),
    connection.onDidChange(render),
    context.views.images.onDidChangeFilter(showFilter),
    context.views.containers.onDidChangeFilter((value) => {
      containersFilter = value;
      describeViews();
    }),
  );
  return {
    get descriptions() {
      return { images: imagesView.description, containers: containersView.description };
    },
    get message() {
      return imagesView.message;
    },
  };
}

/** The line above the welcome content: what only the current state can say. */
function viewMessage(context: CommandContext, snapshot: ConnectionSnapshot): string | undefined {
  const reason = snapshot.lastError ? `: ${snapshot.lastError}` : '';
  if (snapshot.host) {
    switch (snapshot.state) {
      case 'connecting':
        return vscode.l10n.t('Connecting to {0}…{1}', snapshot.host, snapshot.progress ? ` ${snapshot.progress}` : '');
      case 'reconnecting':
        return vscode.l10n.t('Lost the connection to gantryd on {0}{1}. Reconnecting…', snapshot.host, reason);
      case 'disconnected':
        return snapshot.retrying === false
          ? vscode.l10n.t('Cannot use {0}{1}', snapshot.host, reason)
          : vscode.l10n.t('Cannot reach gantryd on {0}{1}. Retrying…', snapshot.host, reason);
      default:
        return undefined;
    }
  }
  if (snapshot.state === 'reconnecting') return vscode.l10n.t('Lost the connection to gantryd at {0}{1}. Reconnecting…', snapshot.socket, reason);
  if (snapshot.state === 'disconnected' && !canStartRuntime()) {
    return vscode.l10n.t('Start gantryd as root: sudo {0}', daemonArgv(context, snapshot.socket).join(' '));
  }
  return undefined;
}
