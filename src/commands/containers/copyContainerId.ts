/**
 * Gantry: Copy Container ID. Puts the container's full ID (64 hex digits,
 * which every tool accepts) on the clipboard. Arguments: a node or
 * name/ID; without one, a QuickPick. Returns the copied text.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';
import { resolveRecord } from './resolveRecord';

/** Copies the clicked container's ID (not the whole selection's). */
export async function copyContainerId(context: CommandContext, node?: unknown): Promise<string | undefined> {
  const [target] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the container whose ID to copy') });
  if (!target) return undefined;
  const { id } = await resolveRecord(context, target);
  await vscode.env.clipboard.writeText(id);
  return id;
}
