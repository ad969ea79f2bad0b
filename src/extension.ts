/** Activation wires the parts together; each part owns its own disposables. */
import * as os from 'node:os';
import * as vscode from 'vscode';
import { type Envelope, LocalEndpoint } from '../runtime/client';
import { RuntimeConnection, type ConnectionSnapshot } from './client/connection';
import { LocalSocket } from './client/localSocket';
import type { CommandContext, CommandFailure } from './commands/commandContext';
import { registerCommands } from './commands/registerCommands';
import { PortForwards } from './forwarding/portForwards';
export type { CommandFailure } from './commands/commandContext';
import { buildHostPicks, type HostPickEntry } from './hosts/hostPicks';
import { HostSwitcher } from './hosts/hostSwitcher';
import { readSshConfigHosts } from './hosts/sshConfig';
import { machineSetting } from './settings/machineSettings';
import { ConnectionStatusBar } from './statusBar/connectionStatusBar';
import type { ContainerLogDocuments } from './views/containers/containerLogs';
import type { ContainerStatsDocuments } from './views/containers/containerStats';
import type { ContainersTreeProvider } from './views/containers/containersTreeProvider';
import type { ImagesTreeProvider } from './views/images/imagesTreeProvider';
import type { NetworksTreeProvider } from './views/networks/networksTreeProvider';
import type { RegistriesTreeProvider } from './views/registries/registriesTreeProvider';
import type { VolumesTreeProvider } from './views/volumes/volumesTreeProvider';
import type { ViewActivity } from './views/refreshManager';
import { createGantryViews, registerRuntimeViews, type RuntimeViewsState } from './views/runtimeViews';

/** What `activate` returns: for tests and for other extensions. */
export interface GantryApi {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  /** Every daemon event the extension receives, in order (after a reconnect: the replayed ones too). */
  readonly onDidReceiveEvent: vscode.Event<Envelope>;
  /** Each command failure, once, with the message shown to the user (commands never reject). */
  readonly onDidFailCommand: vscode.Event<CommandFailure>;
  readonly statusBarText: string;
  readonly statusBarTooltip: string;
  /** The views' data providers, for tests: what each view shows, and the calls it makes. */
  readonly views: {
    readonly images: ImagesTreeProvider;
    readonly containers: ContainersTreeProvider;
    readonly networks: NetworksTreeProvider;
    readonly registries: RegistriesTreeProvider;
    readonly volumes: VolumesTreeProvider;
    readonly logs: ContainerLogDocuments;
    readonly stats: ContainerStatsDocuments;
    /** Resolves once no view refresh is pending or running: "after the debounce", without a clock (docs/testing.md). */
    idle(): Promise<void>;
    /** Each refresh (with its reason), list and inspect call of the Images and Containers trees. */
    readonly onDidActivity: vscode.Event<ViewActivity>;
  };
  /** The views' descriptions and message line, as VS Code shows them. */
  readonly viewState: RuntimeViewsState;
  /** The entries Connect to Host… offers now (with `typed` as if typed). */
  hostPicks(typed?: string): HostPickEntry[];
}

/** The one connection of this window, for deactivate(). */
let activeConnection: RuntimeConnection | undefined;

export function activate(extension: vscode.ExtensionContext): GantryApi {
  const log = vscode.window.createOutputChannel('Gantry', { log: true });
  // The CLI's discovery order, the setting first (client/localSocket.ts).
  const localSocket = new LocalSocket(() => machineSetting('gantry.socketPath'));
  const local = new LocalEndpoint(
    () => localSocket.current,
    () => localSocket.discover(),
  );
  const connection = new RuntimeConnection(local, log);
  activeConnection = connection;
  const hosts = new HostSwitcher(extension, connection, local, log);
  const statusBar = new ConnectionStatusBar(connection);
  const views = createGantryViews(connection, log);
  const failures = new vscode.EventEmitter<CommandFailure>();
  const forwards = new PortForwards(connection, log);
  extension.subscriptions.push(log, connection, hosts, statusBar, views, failures, forwards);

  const context: CommandContext = { extension, connection, log, views, hosts, forwards, failures };
  registerCommands(context);
  const viewState = registerRuntimeViews(context, connection);
  void hosts.restore();

  return {
    get connection() {
      return connection.current;
    },
    onDidChangeConnection: connection.onDidChange,
    onDidReceiveEvent: connection.onDidReceiveEvent,
    onDidFailCommand: failures.event,
    get statusBarText() {
      return statusBar.text;
    },
    get statusBarTooltip() {
      return statusBar.tooltip;
    },
    views: {
      images: views.images,
      containers: views.containers,
      networks: views.networks,
      registries: views.registries,
      volumes: views.volumes,
      logs: views.logs,
      stats: views.stats,
      idle: () => views.refresh.idle(),
      onDidActivity: views.onDidActivity,
    },
    viewState,
    hostPicks: (typed = '') => {
      const config = hosts.sshConfigFile();
      return buildHostPicks({
        current: hosts.current,
        recent: hosts.store.recent,
        sshHosts: readSshConfigHosts(config.file, os.homedir()),
        sshConfigName: config.shown,
        typed,
        remoteName: vscode.env.remoteName,
      });
    },
  };
}

/**
 * VS Code awaits this before the window's extension host goes away (reload,
 * close): the connection to a remote host is closed here, so no ssh process
 * of ours outlives the window. The rest is disposed through subscriptions.
 */
export async function deactivate(): Promise<void> {
  const connection = activeConnection;
  activeConnection = undefined;
  await connection?.close();
}
