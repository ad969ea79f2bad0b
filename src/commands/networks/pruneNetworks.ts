/**
 * Gantry: Prune Networks… Removes every user network no container is
 * configured for, after a confirmation, and says which went. Argument:
 * `{ confirm?: boolean }`. Returns the removed names, or undefined when the
 * user declined.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';

export interface PruneNetworksOptions {
  readonly confirm?: boolean;
}

export async function pruneNetworks(context: CommandContext, ...args: unknown[]): Promise<string[] | undefined> {
  const options = (args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) ?? {}) as PruneNetworksOptions;
  if (options.confirm !== false) {
    const prune = vscode.l10n.t('Prune');
    const message = vscode.l10n.t('Remove all unused networks?');
    const detail = vscode.l10n.t('Every network no container is configured for is removed. The default network bridge stays.');
    if ((await vscode.window.showWarningMessage(message, { modal: true, detail }, prune)) !== prune) return undefined;
  }
  const client = context.connection.requireClient();
  const { removed } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Pruning networks') },
    () => client.networks.prune(),
  );
  context.log.info(`Pruned ${removed.length} networks${removed.length ? `: ${removed.join(', ')}` : ''}`);
  void vscode.window.showInformationMessage(
    removed.length
      ? vscode.l10n.t('Removed {0} unused network(s): {1}.', removed.length, removed.join(', '))
      : vscode.l10n.t('No unused networks to remove.'),
  );
  return removed;
}
