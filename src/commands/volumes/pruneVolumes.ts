/**
 * Gantry: Prune Volumes… Removes every volume no container uses — anonymous
 * ones, or with `{ all: true }` (or the second choice of the confirmation)
 * named ones too — and says which went and the space freed. Argument:
 * `{ confirm?: boolean, all?: boolean }`. Returns the removed names, or
 * undefined when the user declined.
 */
import * as vscode from 'vscode';
import { formatSize } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';

export interface PruneVolumesOptions {
  readonly confirm?: boolean;
  readonly all?: boolean;
}

export async function pruneVolumes(context: CommandContext, ...args: unknown[]): Promise<string[] | undefined> {
  const options = (args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) ?? {}) as PruneVolumesOptions;
  let all = options.all ?? false;
  if (options.confirm !== false) {
    const anonymous = vscode.l10n.t('Prune Anonymous');
    const every = vscode.l10n.t('Prune All Unused');
    const detail = vscode.l10n.t('Volumes no container uses are removed with their files. Named volumes go only with "Prune All Unused".');
    const answer = await vscode.window.showWarningMessage(
      vscode.l10n.t('Remove unused volumes?'),
      { modal: true, detail },
      anonymous,
      every,
    );
    if (answer === undefined) return undefined;
    all = answer === every;
  }
  const client = context.connection.requireClient();
  const { removed, reclaimedBytes } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Pruning volumes') },
    () => client.volumes.prune({ all }),
  );
  context.log.info(`Pruned ${removed.length} volumes (${formatSize(reclaimedBytes)})${removed.length ? `: ${removed.join(', ')}` : ''}`);
  void vscode.window.showInformationMessage(
    removed.length
      ? vscode.l10n.t('Removed {0} unused volume(s), {1} freed.', removed.length, formatSize(reclaimedBytes))
      : vscode.l10n.t('No unused volumes to remove.'),
  );
  return removed;
}
