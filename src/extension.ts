/** Activation wires the parts together; each part owns its own disposables. */
import * as vscode from 'vscode';
import { defaultSocket } from '../runtime/daemon/paths';
import { RuntimeConnection, type ConnectionSnapshot } from './client/connection';
import { registerCommands, type CommandContext } from './commands/registerCommands';
import { ConnectionStatusBar } from './statusBar/connectionStatusBar';
import { registerRuntimeViews } from './views/runtimeViews';

/** What `activate` returns: for tests and for other extensions. */
export interface GantryApi {
  readonly connection: ConnectionSnapshot;
  readonly onDidChangeConnection: vscode.Event<ConnectionSnapshot>;
  readonly statusBarText: string;
}

export function configuredSocket(): string {
  const setting = vscode.workspace.getConfiguration('gantry').get<string>('socketPath', '').trim();
  return setting || defaultSocket();
}

export function activate(extension: vscode.ExtensionContext): GantryApi {
  const log = vscode.window.createOutputChannel('Gantry', { log: true });
  const connection = new RuntimeConnection(configuredSocket, log);
  const statusBar = new ConnectionStatusBar(connection);
  extension.subscriptions.push(log, connection, statusBar);

  const context: CommandContext = { extension, connection, log };
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
  };
}

export function deactivate(): void {
  // Everything is disposed through extension.subscriptions.
}
