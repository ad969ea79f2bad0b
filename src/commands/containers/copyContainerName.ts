/**
 * Gantry: Copy Container Name. Puts the container's name on the clipboard.
 * Arguments: a node or name/ID; without one, a QuickPick. Returns the
 * copied text.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';
import { resolveRecord } from './resolveRecord';

/** Copies the clicked container's name (not the whole selection's). */
export async function copyContainerName(context: CommandContext, node?: unknown): Promise<string | undefined> {
  const [target] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the container whose name to copy') });
  if (!target) return undefined;
  const { name } = await resolveRecord(context, target);
  await vscode.env.clipboard.writeText(name);
  return name;
}
