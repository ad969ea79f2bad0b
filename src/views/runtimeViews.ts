/**
 * The Images and Containers views. They list nothing yet (the images and
 * containers APIs come with later issues), so VS Code shows their welcome
 * content, which depends on the `gantry.connectionState` context key. The
 * one thing a static welcome text cannot say — the exact command to start
 * the daemon on this machine — goes in the view's message.
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { canStartRuntime, daemonArgv } from '../commands/runtime/startRuntime';
import type { CommandContext } from '../commands/registerCommands';

class EmptyTreeDataProvider implements vscode.TreeDataProvider<never> {
  getTreeItem(element: never): vscode.TreeItem {
    return element;
  }
  getChildren(): never[] {
    return [];
  }
}

export function registerRuntimeViews(context: CommandContext, connection: RuntimeConnection): void {
  const provider = new EmptyTreeDataProvider();
  const views = ['gantry.images', 'gantry.containers'].map((id) =>
    vscode.window.createTreeView(id, { treeDataProvider: provider, canSelectMany: true }),
  );
  const render = (snapshot: ConnectionSnapshot) => {
    void vscode.commands.executeCommand('setContext', 'gantry.connectionState', snapshot.state);
    void vscode.commands.executeCommand('setContext', 'gantry.canStartRuntime', canStartRuntime());
    const message = snapshot.state === 'disconnected' && !canStartRuntime()
      ? vscode.l10n.t('Start gantryd as root: sudo {0}', daemonArgv(context, snapshot.socket).join(' '))
      : undefined;
    for (const view of views) view.message = message;
  };
  render(connection.current);
  context.extension.subscriptions.push(...views, connection.onDidChange(render));
}
