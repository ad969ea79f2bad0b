/**
 * What a click on the status-bar item offers while this machine's runtime is
 * not connected: Start Runtime first (as root it starts gantryd; otherwise it
 * shows the command to run), then Reconnect, Connect to Host… and Show Log.
 * Connected, or using a remote host, the click opens Connect to Host… as before.
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot } from '../client/connection';
import { canStartRuntime } from '../commands/runtime/startRuntime';
import type { CommandContext } from '../commands/registerCommands';

export const RUNTIME_MENU_COMMAND = 'gantry.runtime.menu';

interface MenuEntry extends vscode.QuickPickItem {
  readonly command: string;
}

/** The command a click on the status-bar item runs in `snapshot`'s state. */
export function statusBarCommand(snapshot: ConnectionSnapshot): string {
  const local = snapshot.host === undefined;
  return local && (snapshot.state === 'disconnected' || snapshot.state === 'reconnecting') ? RUNTIME_MENU_COMMAND : 'gantry.host.connect';
}

export function runtimeMenuEntries(root: boolean): MenuEntry[] {
  return [
    root
      ? { label: `$(play) ${vscode.l10n.t('Start Runtime')}`, detail: vscode.l10n.t('Start gantryd on this machine'), command: 'gantry.runtime.start' }
      : { label: `$(terminal) ${vscode.l10n.t('Show Start Command')}`, detail: vscode.l10n.t('gantryd needs root: the command to run in a terminal'), command: 'gantry.runtime.start' },
    { label: `$(debug-disconnect) ${vscode.l10n.t('Reconnect')}`, command: 'gantry.runtime.reconnect' },
    { label: `$(remote) ${vscode.l10n.t('Connect to Host…')}`, command: 'gantry.host.connect' },
    { label: `$(output) ${vscode.l10n.t('Show Log')}`, command: 'gantry.showLog' },
  ];
}

export async function showRuntimeMenu(context: CommandContext): Promise<void> {
  const picked = await vscode.window.showQuickPick(runtimeMenuEntries(canStartRuntime()), {
    title: vscode.l10n.t('Gantry: no runtime answers on this machine'),
    placeHolder: vscode.l10n.t('Start it, reconnect, or use a runtime on another host'),
  });
  if (picked) await vscode.commands.executeCommand(picked.command);
  context.log.trace(`runtime menu: ${picked?.command ?? 'dismissed'}`);
}
