/**
 * The runtime menu: what a click on the status-bar item offers while this
 * machine's runtime is not connected (`src/statusBar/runtimeMenu.ts` decides
 * when). Start Runtime first (as root it starts gantryd; otherwise it shows
 * the command to run), then Reconnect, Connect to Host… and Show Log.
 */
import * as vscode from 'vscode';
import { canStartRuntime } from '../../localRuntime';
import type { CommandContext } from '../commandContext';

interface MenuEntry extends vscode.QuickPickItem {
  readonly command: string;
}

export function runtimeMenuEntries(root: boolean): MenuEntry[] {
  return [
    root
      ? {
          label: `$(play) ${vscode.l10n.t('Start Runtime')}`,
          detail: vscode.l10n.t('Start gantryd on this machine'),
          command: 'gantry.runtime.start',
        }
      : {
          label: `$(terminal) ${vscode.l10n.t('Show Start Command')}`,
          detail: vscode.l10n.t('gantryd needs root: the command to run in a terminal'),
          command: 'gantry.runtime.start',
        },
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
