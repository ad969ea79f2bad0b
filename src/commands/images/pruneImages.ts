/**
 * Gantry: Prune Images… Removes untagged (`<none>`) images that nothing uses
 * (with `all`, every unused image), after a confirmation, and reports the
 * space reclaimed. Argument: `{ confirm?: boolean, all?: boolean }`.
 * Returns the daemon's answer, or undefined when the user declined.
 */
import * as vscode from 'vscode';
import { type PruneImagesResponse } from '../../../runtime/client';
import { formatSize } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs } from './imageArgs';

export interface PruneOptions {
  readonly confirm?: boolean;
  readonly all?: boolean;
}

export async function pruneImages(context: CommandContext, ...args: unknown[]): Promise<PruneImagesResponse | undefined> {
  const options = optionsFromArgs<PruneOptions>(args);
  const client = context.connection.requireClient();
  if (options.confirm !== false) {
    const prune = vscode.l10n.t('Prune');
    const message = options.all
      ? vscode.l10n.t('Remove every image that no container uses?')
      : vscode.l10n.t('Remove all untagged (<none>) images that no container uses?');
    const detail = vscode.l10n.t('Their content is deleted unless another image shares it.');
    if ((await vscode.window.showWarningMessage(message, { modal: true, detail }, prune)) !== prune) return undefined;
  }
  const result = await client.images.prune(options.all ?? false);
  context.log.info(
    `Pruned ${result.untagged.length} images (${result.untagged.join(', ')}): ${result.deletedBlobs} blobs, ${formatSize(result.reclaimedBytes)}`,
  );
  void vscode.window.showInformationMessage(
    result.untagged.length
      ? vscode.l10n.t('Pruned {0} image(s); reclaimed {1}.', result.untagged.length, formatSize(result.reclaimedBytes))
      : vscode.l10n.t('No unused untagged images to prune; reclaimed {0}.', formatSize(result.reclaimedBytes)),
  );
  return result;
}
