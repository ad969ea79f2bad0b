/**
 * Which volume a volume command acts on: the clicked node (from the Volumes
 * view), a name given as a string (code, tests), else one picked from a
 * QuickPick of the daemon's volumes.
 */
import * as vscode from 'vscode';
import { isVolumeNode, volumeDescription } from '../../views/volumes/volumeNodes';
import type { CommandContext } from '../commandContext';

export async function resolveVolume(context: CommandContext, arg: unknown, placeHolder: string): Promise<string | undefined> {
  if (isVolumeNode(arg)) return arg.volume.name;
  if (typeof arg === 'string' && arg.trim()) return arg.trim();
  const volumes = await context.views.volumes.volumes();
  if (volumes.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No volume to choose from.'));
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(
    volumes.map((v) => ({ label: v.name, description: volumeDescription(v) })),
    { placeHolder },
  );
  return chosen?.label;
}
