/**
 * Gantry: Copy Container ID. Puts the container's full ID (64 hex digits,
 * which every tool accepts) on the clipboard. Arguments: a node or
 * name/ID; without one, a QuickPick. Returns the copied text.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { copyContainerField } from './copyContainerText';

/** Copies the clicked container's ID (not the whole selection's). */
export function copyContainerId(context: CommandContext, node?: unknown): Promise<string | undefined> {
  return copyContainerField(context, node, 'id', vscode.l10n.t('Select the container whose ID to copy'));
}
