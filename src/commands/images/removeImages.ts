/**
 * Gantry: Remove Image… Removes one or more image names (the selection in
 * the tree), after one confirmation. Content nothing else references is
 * collected by the daemon at once. When the daemon refuses an image
 * (Conflict: in use, or its ID has several names) the user may force it.
 *
 * Arguments: a node or record name, the selection, then
 * `{ confirm?: boolean, force?: boolean }`: `confirm: false` skips every
 * prompt (a refused image then fails unless `force`). Without targets, a
 * QuickPick. Returns what was removed, summed.
 */
import * as vscode from 'vscode';
import { describe, kindOf } from '../../../runtime/errdefs/errdefs';
import { formatSize } from '../../../runtime/util/humanize';
import type { CommandContext } from '../registerCommands';
import { optionsFromArgs, resolveTargets, type ImageTarget } from './imageArgs';

export interface RemoveOptions {
  readonly confirm?: boolean;
  readonly force?: boolean;
}

export interface RemoveImagesResult {
  readonly untagged: string[];
  readonly deletedBlobs: number;
  readonly reclaimedBytes: number;
  readonly deletedSnapshots: number;
}

export async function removeImages(context: CommandContext, node?: unknown, nodes?: unknown, ...rest: unknown[]): Promise<RemoveImagesResult | undefined> {
  const options = optionsFromArgs<RemoveOptions>(rest.length ? rest : [nodes]);
  const client = context.connection.requireClient();
  const targets = await resolveTargets(context, node, Array.isArray(nodes) ? nodes : undefined, {
    placeHolder: vscode.l10n.t('Select the images to remove'),
    canPickMany: true,
  });
  if (targets.length === 0) return undefined;
  const prompt = options.confirm !== false;
  if (prompt && !(await confirmRemove(targets))) return undefined;

  const result = { untagged: [] as string[], deletedBlobs: 0, reclaimedBytes: 0, deletedSnapshots: 0 };
  const failures: string[] = [];
  for (const target of targets) {
    try {
      let removed;
      try {
        removed = await client.images.remove(target.name, options.force ?? false);
      } catch (e) {
        if (kindOf(e) !== 'Conflict' || options.force || !prompt || !(await confirmForce(target, describe(e)))) throw e;
        removed = await client.images.remove(target.name, true);
      }
      result.untagged.push(...removed.untagged);
      result.deletedBlobs += removed.deletedBlobs;
      result.reclaimedBytes += removed.reclaimedBytes;
      result.deletedSnapshots += removed.deletedSnapshots;
      context.log.info(`Removed ${removed.untagged.join(', ')}: ${removed.deletedBlobs} blobs, ${formatSize(removed.reclaimedBytes)}`);
    } catch (e) {
      failures.push(`${target.label}: ${describe(e)}`);
    }
  }
  if (result.untagged.length) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Removed {0} image name(s); reclaimed {1}.', result.untagged.length, formatSize(result.reclaimedBytes)),
    );
  }
  if (failures.length) throw new Error(vscode.l10n.t('Could not remove {0}', failures.join('; ')));
  return result;
}

async function confirmRemove(targets: readonly ImageTarget[]): Promise<boolean> {
  const remove = vscode.l10n.t('Remove');
  const message = targets.length === 1
    ? vscode.l10n.t('Remove image {0}?', targets[0].label)
    : vscode.l10n.t('Remove {0} images?', targets.length);
  const detail = targets.length === 1 ? undefined : targets.map((t) => t.label).join('\n');
  return (await vscode.window.showWarningMessage(message, { modal: true, detail }, remove)) === remove;
}

async function confirmForce(target: ImageTarget, reason: string): Promise<boolean> {
  const force = vscode.l10n.t('Force Remove');
  const message = vscode.l10n.t('{0} cannot be removed as it is.', target.label);
  return (await vscode.window.showWarningMessage(message, { modal: true, detail: reason }, force)) === force;
}
