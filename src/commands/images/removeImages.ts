/**
 * Gantry: Remove Image… Removes one or more image names (the selection in
 * the tree), after one confirmation. Content nothing else references is
 * collected by the daemon at once. When the daemon refuses an image
 * (Conflict: a container uses it) the dialog names the containers and offers
 * Remove Anyway. The summary names what was removed.
 *
 * Arguments: a node or record name, the selection, then
 * `{ confirm?: boolean, force?: boolean }`: `confirm: false` skips every
 * prompt (a refused image then fails unless `force`). Without targets, a
 * QuickPick. Returns what was removed, summed.
 */
import * as vscode from 'vscode';
import { describe, kindOf } from '../../../runtime/client';
import { displayName, formatSize } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs, resolveTargets, type ImageTarget } from './imageArgs';

const MAX_NAMED = 5;

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

export async function removeImages(
  context: CommandContext,
  node?: unknown,
  nodes?: unknown,
  ...rest: unknown[]
): Promise<RemoveImagesResult | undefined> {
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
        if (kindOf(e) !== 'Conflict' || options.force) throw e;
        // The daemon's message is written for the CLI ("use --force"): say it in the view's terms.
        context.log.info(`Removing ${target.name}: ${describe(e)}`);
        const users = await containersUsing(context, target).catch(() => []);
        if (!prompt) throw new Error(inUseMessage(target, users));
        if (!(await confirmForce(target, users))) continue; // the user chose to keep it
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
  if (result.untagged.length) void vscode.window.showInformationMessage(removedMessage(result));
  if (failures.length) throw new Error(vscode.l10n.t('Could not remove {0}', failures.join('; ')));
  return result;
}

async function confirmRemove(targets: readonly ImageTarget[]): Promise<boolean> {
  const remove = vscode.l10n.t('Remove');
  const message =
    targets.length === 1 ? vscode.l10n.t('Remove image {0}?', targets[0].label) : vscode.l10n.t('Remove {0} images?', targets.length);
  const detail = targets.length === 1 ? undefined : targets.map((t) => t.label).join('\n');
  return (await vscode.window.showWarningMessage(message, { modal: true, detail }, remove)) === remove;
}

/** "Removed busybox:latest; reclaimed 2.1MB." (up to five names, then how many more). */
function removedMessage(result: RemoveImagesResult): string {
  const names = result.untagged.map(displayName);
  const shown =
    names.length > MAX_NAMED ? [...names.slice(0, MAX_NAMED - 1), vscode.l10n.t('{0} more', names.length - MAX_NAMED + 1)] : names;
  return vscode.l10n.t('Removed {0}; reclaimed {1}.', shown.join(', '), formatSize(result.reclaimedBytes));
}

/** The daemon refused to remove `target`: names the containers that use it, and offers the action as a button. */
async function confirmForce(target: ImageTarget, users: readonly string[]): Promise<boolean> {
  const anyway = vscode.l10n.t('Remove Anyway');
  const detail = vscode.l10n.t('Remove Anyway removes the image; its containers stay as they are.');
  return (await vscode.window.showWarningMessage(inUseMessage(target, users), { modal: true, detail }, anyway)) === anyway;
}

function inUseMessage(target: ImageTarget, users: readonly string[]): string {
  if (users.length === 0) return vscode.l10n.t('{0} is in use.', target.label);
  if (users.length === 1) return vscode.l10n.t('{0} is used by container {1}.', target.label, users[0]);
  return vscode.l10n.t('{0} is used by containers {1}.', target.label, users.join(', '));
}

/** The names of the containers made from the image `target` names (by image ID, as the daemon counts them). */
async function containersUsing(context: CommandContext, target: ImageTarget): Promise<string[]> {
  const client = context.connection.requireClient();
  const id = (await client.images.list()).find((i) => i.name === target.name)?.id ?? target.name;
  return (await client.containers.list(true)).filter((c) => c.imageId === id || c.imageName === target.name).map((c) => c.name);
}
