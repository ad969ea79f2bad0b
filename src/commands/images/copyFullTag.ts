/**
 * Gantry: Copy Full Tag. Puts the image's full normalised name on the
 * clipboard ("docker.io/library/busybox:latest"), the form every tool
 * accepts. Arguments: an image node or record name; without one, a
 * QuickPick of tagged images. Returns the copied text.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './imageArgs';

/** Copies the clicked image's name (not the whole selection's). */
export async function copyFullTag(context: CommandContext, node?: unknown): Promise<string | undefined> {
  const [target] = await resolveTargets(context, node, undefined, {
    placeHolder: vscode.l10n.t('Select the image whose full tag to copy'),
    include: (image) => Boolean(image.tag),
  });
  if (!target) return undefined;
  await vscode.env.clipboard.writeText(target.name);
  return target.name;
}
