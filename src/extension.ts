/** Activation wires the parts together; each part owns its own disposables. */
import * as vscode from 'vscode';
import { defaultSocket } from '../runtime/daemon/paths';
import { RuntimeConnection, type ConnectionSnapshot } from './client/connection';
import { registerCommands, type CommandContext } from './commands/registerCommands';
import { ConnectionStatusBar } from './statusBar/connectionStatusBar';
import type { ContainerLogDocuments } from './views/containers/containerLogs';
import type { ContainersTreeProvider } from './views/containers/containersTreeProvider';
import type { ImagesTreeProvider } from './views/images/imagesTreeProvider';
import { createGantryViews, registerRuntimeViews } from './views/runtimeViews';

/** What `activate` returns: for tests and for other extensions. */
export interface GantryApi {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  readonly statusBarText: string;
  /** The views' data providers, for tests: what each view shows, and how many daemon calls it made. */
  readonly views: {
    readonly images: ImagesTreeProvider;
    readonly containers: ContainersTreeProvider;
    readonly logs: ContainerLogDocuments;
  };
}

export function configuredSocket(): string {
  const setting = vscode.workspace.getConfiguration('gantry').get<string>('socketPath', '').trim();
  return setting || defaultSocket();
}

export function activate(extension: vscode.ExtensionContext): GantryApi {
  const log = vscode.window.createOutputChannel('Gantry', { log: true });
  const connection = new RuntimeConnection(configuredSocket, log);
  const statusBar = new ConnectionStatusBar(connection);
  const views = createGantryViews(connection, log);
  extension.subscriptions.push(log, connection, statusBar, views);

  const context: CommandContext = { extension, connection, log, views };
  registerCommands(context);
  registerRuntimeViews(context, connection);

  extension.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('gantry.socketPath')) void connection.reconnect();
    }),
  );
  void connection.reconnect();

  return {
    get connection() {
      return connection.current;
    },
    onDidChangeConnection: connection.onDidChange,
    get statusBarText() {
      return statusBar.text;
    },
    views: { images: views.images, containers: views.containers, logs: views.logs },
  };
}

export function deactivate(): void {
  // Everything is disposed through extension.subscriptions.
}
