/**
 * The status-bar item: which runtime the window uses — this machine's, or
 * which remote host's — and in what state. Clicking it opens Connect to
 * Host… (switch runtime, or pick the current one to reconnect); while this
 * machine's runtime is not connected, a menu that starts with Start Runtime
 * (runtimeMenu.ts). The tooltip has the details and links to the runtime's
 * info, Start Runtime and Reconnect.
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';
import { shortHostLabel } from '../hosts/hostChoice';
import { daemonModeDetail, daemonModeLabel } from '../views/connectionSummary';
import { mdEscape as escape } from '../views/markdown';
import { statusBarCommand } from './runtimeMenu';

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

  /** Exposed for tests: the tooltip's text. */
  get tooltip(): string {
    const t = this.item.tooltip;
    return typeof t === 'string' ? t : (t?.value ?? '');
  }

  private render(snapshot: ConnectionSnapshot): void {
    const host = snapshot.host ? shortHostLabel(snapshot.host) : undefined;
    const where = snapshot.host ? `on ${snapshot.host}` : `at ${snapshot.socket}`;
    const links = (...commands: Array<[string, string]>) => commands.map(([title, id]) => `[${title}](command:${id})`).join(' · ');
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = {
      enabledCommands: [
        'gantry.runtime.showInfo',
        'gantry.runtime.start',
        'gantry.runtime.reconnect',
        'gantry.host.connect',
        'gantry.showLog',
        'gantry.doctor',
      ],
    };
    let warning = false;
    switch (snapshot.state) {
      case 'connected': {
        // The version string comes from the daemon: neither markup nor icons.
        const version = escapeIcons(snapshot.version?.version ?? '');
        const mode = daemonModeLabel(snapshot);
        const text = host ? `$(server) ${escapeIcons(host)} · Gantry ${version}`.trimEnd() : `$(vm-running) Gantry ${version}`.trimEnd();
        this.item.text = mode ? `${text} · ${mode}` : text;
        tooltip.appendMarkdown(`Connected to gantryd ${escape(snapshot.version?.version ?? '')} ${escape(where)}`);
        const detail = daemonModeDetail(snapshot);
        if (detail) tooltip.appendMarkdown(`  \n${escape(detail)}`);
        if (snapshot.host) tooltip.appendMarkdown(`  \nsocket on the host: ${escape(snapshot.socket)}`);
        tooltip.appendMarkdown(`\n\n${links(['Runtime Info', 'gantry.runtime.showInfo'], ['Connect to Host…', 'gantry.host.connect'])}`);
        break;
      }
      case 'connecting':
        this.item.text = host ? `$(sync~spin) Gantry: ${host}` : '$(sync~spin) Gantry';
        tooltip.appendMarkdown(`Connecting to gantryd ${escape(where)}…`);
        if (snapshot.progress) tooltip.appendMarkdown(`  \n${escape(snapshot.progress)}`);
        break;
      case 'reconnecting':
      case 'disconnected': {
        warning = true;
        const lost = snapshot.state === 'reconnecting';
        this.item.text = host
          ? `$(debug-disconnect) Gantry: ${host} ${lost ? '(reconnecting)' : '(not connected)'}`
          : lost
            ? '$(sync) Gantry: reconnecting'
            : '$(vm-outline) Gantry: not connected';
        tooltip.appendMarkdown(`${lost ? 'Lost gantryd' : 'No gantryd'} ${escape(where)}`);
        if (snapshot.lastError) tooltip.appendMarkdown(`: ${escape(snapshot.lastError)}`);
        tooltip.appendMarkdown(snapshot.retrying === false ? '  \nGantry does not retry this by itself.' : '  \nGantry keeps retrying.');
        const start: Array<[string, string]> = snapshot.host ? [] : [['Start Runtime', 'gantry.runtime.start']];
        tooltip.appendMarkdown(
          `\n\n${links(...start, ['Reconnect', 'gantry.runtime.reconnect'], ['Connect to Host…', 'gantry.host.connect'], ['Check Set-up', 'gantry.doctor'], ['Show Log', 'gantry.showLog'])}`,
        );
        break;
      }
    }
    this.item.tooltip = tooltip;
    this.item.command = statusBarCommand(snapshot);
    this.item.backgroundColor = warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** `$(name)` in status-bar text is an icon; a backslash keeps it literal. */
function escapeIcons(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}
