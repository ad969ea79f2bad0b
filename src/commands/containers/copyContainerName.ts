/**
 * Gantry: Copy Container Name. Puts the container's name on the clipboard.
 * Arguments: a node or name/ID; without one, a QuickPick. Returns the
 * copied text.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { copyContainerField } from './copyContainerText';

/** Copies the clicked container's name (not the whole selection's). */
export function copyContainerName(context: CommandContext, node?: unknown): Promise<string | undefined> {
  return copyContainerField(context, node, 'name', vscode.l10n.t('Select the container whose name to copy'));
}
