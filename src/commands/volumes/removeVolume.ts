/**
 * Gantry: Remove Volume… Removes one volume after a modal confirmation. The
 * daemon refuses while any container references it, running or not
 * ("volume is in use - [ID…]"): the command wrapper shows that refusal as
 * it is, in one error notification, and nothing is removed.
 *
 * Arguments: a node or name, then `{ confirm?: boolean }`. Returns the
 * removed volume's name, or undefined when the user declined.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { resolveVolume } from './volumeArgs';

export interface RemoveVolumeOptions {
  readonly confirm?: boolean;
}

export async function removeVolume(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<string | undefined> {
  const options = (rest.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) ?? {}) as RemoveVolumeOptions;
  const name = await resolveVolume(context, node, vscode.l10n.t('Select the volume to remove'));
  if (!name) return undefined;
  if (options.confirm !== false) {
    const remove = vscode.l10n.t('Remove');
    const detail = vscode.l10n.t('Its files are deleted for good.');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Remove volume {0}?', name), { modal: true, detail }, remove);
    if (answer !== remove) return undefined;
  }
  await context.connection.requireClient().volumes.remove(name);
  context.log.info(`Removed volume ${name}`);
  return name;
}
