/** The status-bar item: which runtime the window is connected to, and a click to see more. */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';

export class ConnectionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('gantry.connection', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;

  constructor(connection: RuntimeConnection) {
    this.item.name = 'Gantry Runtime';
    this.subscription = connection.onDidChange((snapshot) => this.render(snapshot));
    this.render(connection.current);
    this.item.show();
  }

  /** Exposed for tests: what the user reads in the status bar. */
  get text(): string {
    return this.item.text;
  }

  private render(snapshot: ConnectionSnapshot): void {
    switch (snapshot.state) {
      case 'connected':
        this.item.text = `$(vm-running) Gantry ${snapshot.version?.version ?? ''}`.trimEnd();
        this.item.tooltip = `Connected to gantryd ${snapshot.version?.version} at ${snapshot.socket}`;
        this.item.backgroundColor = undefined;
        this.item.command = 'gantry.runtime.showInfo';
        break;
      case 'connecting':
        this.item.text = '$(sync~spin) Gantry';
        this.item.tooltip = `Connecting to gantryd at ${snapshot.socket}…`;
        this.item.backgroundColor = undefined;
        this.item.command = undefined;
        break;
      case 'disconnected':
        this.item.text = '$(vm-outline) Gantry: not connected';
        this.item.tooltip = `No gantryd at ${snapshot.socket}${snapshot.lastError ? `: ${snapshot.lastError}` : ''}. Click to reconnect.`;
        this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
        this.item.command = 'gantry.runtime.reconnect';
        break;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
