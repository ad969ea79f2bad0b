/**
 * The Connect to Host… picker: the entries of hostPicks.ts as a QuickPick
 * that also takes free text (`user@host[:port]`, `ssh://…`, an alias), and
 * lets the user drop a host from the recent list (its trash button).
 * Resolves with the choice, or undefined when dismissed.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { HostChoice } from './hostChoice';
import { buildHostPicks, type HostPickEntry } from './hostPicks';
import type { HostSwitcher } from './hostSwitcher';
import { readSshConfigHosts } from './sshConfig';

interface Item extends vscode.QuickPickItem {
  readonly entry: HostPickEntry;
}

const REMOVE = { iconPath: new vscode.ThemeIcon('trash'), tooltip: vscode.l10n.t('Remove from recent hosts') };

export function pickHost(hosts: HostSwitcher): Promise<HostChoice | undefined> {
  const config = hosts.sshConfigFile();
  // Read once per pick: a missing file (no ~/.ssh here) just lists no hosts.
  const sshHosts = readSshConfigHosts(config.file, os.homedir());
  const picker = vscode.window.createQuickPick<Item>();
  picker.title = vscode.l10n.t('Gantry: Connect to Host');
  picker.placeholder = vscode.l10n.t('Pick a runtime, or type user@host[:port] or ssh://user@host[:port]');
  picker.matchOnDescription = true;
  const render = () => {
    const entries = buildHostPicks({
      current: hosts.current,
      recent: hosts.store.recent,
      sshHosts,
      sshConfigName: config.shown,
      typed: picker.value,
      remoteName: vscode.env.remoteName,
    });
    picker.items = entries.map(toItem);
  };
  render();

  return new Promise<HostChoice | undefined>((resolve) => {
    const subscriptions = [
      picker.onDidChangeValue(render),
      picker.onDidTriggerItemButton(async ({ item }) => {
        if (item.entry.choice?.kind === 'ssh') await hosts.store.forget(item.entry.choice.label);
        render();
      }),
      picker.onDidAccept(() => {
        const entry = picker.selectedItems[0]?.entry;
        if (!entry?.choice) return; // an "invalid" row: keep the picker open
        resolve(entry.choice);
        picker.hide();
      }),
      picker.onDidHide(() => {
        resolve(undefined);
        for (const s of subscriptions) s.dispose();
        picker.dispose();
      }),
    ];
    picker.show();
  });
}

function toItem(entry: HostPickEntry): Item {
  if (entry.kind === 'separator') return { entry, label: entry.label, kind: vscode.QuickPickItemKind.Separator };
  return {
    entry,
    label: entry.icon ? `$(${entry.icon}) ${entry.label}` : entry.label,
    description: entry.description,
    detail: entry.detail,
    // Rows made from the typed text match it by construction; keep them even where VS Code's matching would not.
    alwaysShow: entry.typed,
    buttons: entry.removable ? [REMOVE] : undefined,
  };
}
