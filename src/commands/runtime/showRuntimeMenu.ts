/**
 * The runtime menu: what a click on the status-bar item offers while this
 * machine's runtime is not connected (`src/statusBar/runtimeMenu.ts` decides
 * when). Start Runtime first (as root it starts the rootful gantryd,
 * otherwise a rootless one of the user's), then Reconnect, Connect to Host…,
 * Check Set-up and Show Log.
 */
import * as vscode from 'vscode';
import { localRuntimeMode, type LocalRuntimeMode } from '../../localRuntime';
import type { CommandContext } from '../commandContext';

interface MenuEntry extends vscode.QuickPickItem {
  readonly command: string;
}

export function runtimeMenuEntries(mode: LocalRuntimeMode): MenuEntry[] {
  return [
    {
      label: `$(play) ${vscode.l10n.t('Start Runtime')}`,
      detail:
        mode === 'rootful'
          ? vscode.l10n.t('Start gantryd on this machine')
          : vscode.l10n.t('Start your own rootless gantryd on this machine (no root needed)'),
      command: 'gantry.runtime.start',
    },
    { label: `$(debug-disconnect) ${vscode.l10n.t('Reconnect')}`, command: 'gantry.runtime.reconnect' },
    { label: `$(remote) ${vscode.l10n.t('Connect to Host…')}`, command: 'gantry.host.connect' },
    { label: `$(checklist) ${vscode.l10n.t('Check Set-up')}`, command: 'gantry.doctor' },
    { label: `$(output) ${vscode.l10n.t('Show Log')}`, command: 'gantry.showLog' },
  ];
}

export async function showRuntimeMenu(context: CommandContext): Promise<void> {
  const picked = await vscode.window.showQuickPick(runtimeMenuEntries(localRuntimeMode()), {
    title: vscode.l10n.t('Gantry: no runtime answers on this machine'),
    placeHolder: vscode.l10n.t('Start it, reconnect, or use a runtime on another host'),
  });
  if (picked) await vscode.commands.executeCommand(picked.command);
  context.log.trace(`runtime menu: ${picked?.command ?? 'dismissed'}`);
}
