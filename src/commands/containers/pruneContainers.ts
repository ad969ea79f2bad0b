/**
 * Gantry: Prune Containers… Removes every container that is not running
 * (created, exited, dead), after a confirmation, and reports how many went.
 * Argument: `{ confirm?: boolean }`. Returns the removed IDs, or undefined
 * when the user declined.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs } from './containerArgs';

export interface PruneOptions {
  readonly confirm?: boolean;
}

export async function pruneContainers(context: CommandContext, ...args: unknown[]): Promise<string[] | undefined> {
  const options = optionsFromArgs<PruneOptions>(args);
  const client = context.connection.requireClient();
  if (options.confirm !== false) {
    const prune = vscode.l10n.t('Prune');
    const message = vscode.l10n.t('Remove all stopped containers?');
    const detail = vscode.l10n.t('Every created or exited container is removed, with its logs and file system changes.');
    if ((await vscode.window.showWarningMessage(message, { modal: true, detail }, prune)) !== prune) return undefined;
  }
  const removed = await client.containers.prune();
  context.log.info(`Pruned ${removed.length} containers${removed.length ? `: ${removed.join(', ')}` : ''}`);
  void vscode.window.showInformationMessage(
    removed.length ? vscode.l10n.t('Removed {0} stopped container(s).', removed.length) : vscode.l10n.t('No stopped containers to remove.'),
  );
  return removed;
}
