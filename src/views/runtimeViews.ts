/**
 * The Images, Containers and Networks views: Images lists the daemon's
 * images (views/images/), Containers its containers (views/containers/),
 * Networks its networks (views/networks/). The
 * views show welcome content while not connected or empty, picked by the
 * `gantry.connectionState`, `gantry.remote`, `gantry.canStartRuntime` and
 * `gantry.runtimeNotRunning` context keys. The views never set a message
 * line: VS Code hides the welcome content (and its Start Runtime, Reconnect
 * and Show Log buttons) while a view has one. What the static welcome text
 * cannot say goes in the view's description, in the header: "not running",
 * the step a remote connect is at, why the link to a remote host failed
 * (connectionSummary.ts). While connected to a remote host, each view's
 * description names it.
 *
 * Every refresh goes through the RefreshManager; the views never poll.
 * The `gantry:` documents (inspect, logs, stats) are registered here too, through
 * one router (VS Code takes one provider per scheme).
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { shortHostLabel } from '../hosts/hostChoice';
import { canStartRuntime } from '../localRuntime';
import { containerInspectKind } from './containers/containerDocuments';
import { ContainerLogDocuments } from './containers/containerLogs';
import { ContainerStatsDocuments } from './containers/containerStats';
import { CONTAINERS_VIEW, ContainersTreeProvider } from './containers/containersTreeProvider';
import { connectionSummary, daemonModeLabel, probeLocalSocket, type LocalProblem } from './connectionSummary';
import { GANTRY_SCHEME, GantryDocumentRouter } from './gantryDocuments';
import { imageInspectKind } from './images/imageDocuments';
import { InspectDocuments } from './inspectDocuments';
import { IMAGES_VIEW, ImagesTreeProvider } from './images/imagesTreeProvider';
import { networkInspectKind } from './networks/networkDocuments';
import { NETWORKS_VIEW, NetworksTreeProvider } from './networks/networksTreeProvider';
import { VOLUMES_VIEW, VolumesTreeProvider } from './volumes/volumesTreeProvider';
import { RefreshManager, type ViewActivity } from './refreshManager';
import { REGISTRIES_VIEW, RegistriesTreeProvider } from './registries/registriesTreeProvider';
import { ContainerFileSystem } from '../files/containerFileSystem';
import { LayerChangeDecorations } from './images/layerTreeItems';
import { CONTAINER_FILES_SCHEME } from '../files/containerFileUris';
import { ContainerFilesDrop } from './containers/containerFilesDrop';

/** The views' data, shared with the commands (CommandContext.views) and the test API. */
export interface GantryViews {
  readonly images: ImagesTreeProvider;
  readonly containers: ContainersTreeProvider;
  readonly networks: NetworksTreeProvider;
  readonly registries: RegistriesTreeProvider;
  readonly volumes: VolumesTreeProvider;
  /** The `gantry:/container/<id>/<name>.log` documents. */
  readonly logs: ContainerLogDocuments;
  /** The `gantry:/container/<id>/<name>.stats` documents. */
  readonly stats: ContainerStatsDocuments;
  readonly refresh: RefreshManager;
  /** Each refresh, list and inspect call of the two trees: for tests (the test API). */
  readonly onDidActivity: vscode.Event<ViewActivity>;
}

/** Creates the providers and their RefreshManager; disposing the result disposes all of them. */
export function createGantryViews(connection: RuntimeConnection, log: vscode.LogOutputChannel): GantryViews & vscode.Disposable {
  const activity = new vscode.EventEmitter<ViewActivity>();
  const observe = (a: ViewActivity) => activity.fire(a);
  const refresh = new RefreshManager(connection, log, observe);
  const images = new ImagesTreeProvider(connection, log, observe);
  const containers = new ContainersTreeProvider(connection, log, undefined, observe);
  const networks = new NetworksTreeProvider(connection, log, observe);
  const registries = new RegistriesTreeProvider(connection, log, observe);
  const volumes = new VolumesTreeProvider(connection, log, observe);
  const logs = new ContainerLogDocuments(connection, log);
  const stats = new ContainerStatsDocuments(connection, log);
  const registrations = [
    refresh.register(IMAGES_VIEW, images),
    refresh.register(CONTAINERS_VIEW, containers),
    refresh.register(NETWORKS_VIEW, networks),
    refresh.register(REGISTRIES_VIEW, registries),
    refresh.register(VOLUMES_VIEW, volumes),
  ];
  return {
    images,
    containers,
    networks,
    registries,
    volumes,
    logs,
    stats,
    refresh,
    onDidActivity: activity.event,
    dispose: () => {
      for (const r of registrations) r.dispose();
      refresh.dispose();
      images.dispose();
      containers.dispose();
      networks.dispose();
      registries.dispose();
      volumes.dispose();
      logs.dispose();
      stats.dispose();
      activity.dispose();
    },
  };
}

/** What the views show besides their items: for tests. */
export interface RuntimeViewsState {
  readonly descriptions: {
    readonly images: string | undefined;
    readonly containers: string | undefined;
    readonly networks: string | undefined;
  };
  /** The message line above a view's tree: never set (it would hide the welcome content). */
  readonly message: string | undefined;
}

/** What registering the views needs of the extension: its subscriptions, and the views' data. */
export interface ViewsHost {
  readonly extension: vscode.ExtensionContext;
  readonly views: GantryViews;
}

export function registerRuntimeViews(context: ViewsHost, connection: RuntimeConnection): RuntimeViewsState {
  const imagesView = vscode.window.createTreeView(IMAGES_VIEW, {
    treeDataProvider: context.views.images,
    canSelectMany: true,
    showCollapseAll: true,
  });
  const files = new ContainerFileSystem(connection);
  const containersView = vscode.window.createTreeView(CONTAINERS_VIEW, {
    treeDataProvider: context.views.containers,
    canSelectMany: true,
    // Files dragged from the Explorer (or the OS) onto a container's folder are copied into it.
    dragAndDropController: new ContainerFilesDrop(context.views.containers),
  });
  const networksView = vscode.window.createTreeView(NETWORKS_VIEW, {
    treeDataProvider: context.views.networks,
    showCollapseAll: true,
  });
  const registriesView = vscode.window.createTreeView(REGISTRIES_VIEW, {
    treeDataProvider: context.views.registries,
    showCollapseAll: true,
  });
  const volumesView = vscode.window.createTreeView(VOLUMES_VIEW, {
    treeDataProvider: context.views.volumes,
    showCollapseAll: true,
  });
  const views = [imagesView, containersView, networksView, volumesView, registriesView];
  // The log documents belong to the views (tests read them there), so the router must not dispose them.
  const { logs, stats } = context.views;
  const imageInspect = new InspectDocuments(connection, imageInspectKind);
  const containerInspect = new InspectDocuments(connection, containerInspectKind);
  const networkInspect = new InspectDocuments(connection, networkInspectKind);
  const documents = new GantryDocumentRouter([
    { matches: (uri) => imageInspect.matches(uri), provider: imageInspect },
    { matches: (uri) => containerInspect.matches(uri), provider: containerInspect },
    { matches: (uri) => networkInspect.matches(uri), provider: networkInspect },
    {
      matches: ContainerLogDocuments.matches,
      provider: {
        provideTextDocumentContent: (uri) => logs.provideTextDocumentContent(uri),
        onDidChange: logs.onDidChange,
        dispose: () => undefined,
      },
    },
    {
      matches: ContainerStatsDocuments.matches,
      provider: {
        provideTextDocumentContent: (uri) => stats.provideTextDocumentContent(uri),
        onDidChange: stats.onDidChange,
        dispose: () => undefined,
      },
    },
  ]);

  let snapshot = connection.current;
  let problem: LocalProblem | undefined;
  let filter = context.views.images.filter;
  let containersFilter = context.views.containers.filter;
  const describeViews = () => {
    const where = snapshot.host ? shortHostLabel(snapshot.host) : undefined;
    const summary = connectionSummary(snapshot, problem);
    const header = [where, daemonModeLabel(snapshot), summary].filter(Boolean).join(' · ');
    imagesView.description = [header, filter ? vscode.l10n.t('filter: {0}', filter) : undefined].filter(Boolean).join(' · ') || undefined;
    containersView.description =
      [header, containersFilter ? vscode.l10n.t('filter: {0}', containersFilter) : undefined].filter(Boolean).join(' · ') || undefined;
    networksView.description = header || undefined;
    registriesView.description = header || undefined;
    volumesView.description = header || undefined;
  };
  const setNotRunning = () =>
    void vscode.commands.executeCommand('setContext', 'gantry.runtimeNotRunning', snapshot.host === undefined && problem === 'notRunning');
  let probes = 0;
  const render = (next: ConnectionSnapshot) => {
    const before = snapshot;
    snapshot = next;
    void vscode.commands.executeCommand('setContext', 'gantry.connectionState', next.state);
    void vscode.commands.executeCommand('setContext', 'gantry.remote', next.host !== undefined);
    void vscode.commands.executeCommand('setContext', 'gantry.canStartRuntime', canStartRuntime());
    if (next.host !== undefined || next.state === 'connected' || next.socket !== before.socket) {
      probes++; // a probe still under way speaks of another state
      problem = undefined;
    }
    const notConnected = next.state === 'disconnected' || next.state === 'reconnecting';
    if (
      next.host === undefined &&
      notConnected &&
      (problem === undefined || next.state !== before.state || next.lastError !== before.lastError)
    ) {
      // Why nothing answers on this machine: a plain connect's errno (the
      // snapshot's error is gRPC's text, which nothing should parse).
      const probe = ++probes;
      void probeLocalSocket(next.socket).then((found) => {
        if (probe !== probes) return;
        problem = found;
        setNotRunning();
        describeViews();
      });
    }
    setNotRunning();
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
    files,
    vscode.workspace.registerFileSystemProvider(CONTAINER_FILES_SCHEME, files, { isCaseSensitive: true }),
    vscode.window.registerFileDecorationProvider(new LayerChangeDecorations()),
    connection.onDidChange(render),
    context.views.images.onDidChangeFilter(showFilter),
    context.views.containers.onDidChangeFilter((value) => {
      containersFilter = value;
      describeViews();
    }),
  );
  return {
    get descriptions() {
      return { images: imagesView.description, containers: containersView.description, networks: networksView.description };
    },
    get message() {
      // VS Code starts a view with the empty message: none.
      return imagesView.message || containersView.message || networksView.message || undefined;
    },
  };
}
