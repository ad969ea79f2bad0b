/**
 * Gantry: Filter Containers… Shows only the containers whose name, ID or
 * image contains the text (case-insensitive); sets the
 * `gantry.containers.filtered` context key that shows Clear Filter.
 * Argument: the text (without one, an input box holding the current
 * filter). Returns the filter now in effect.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { filterView } from '../filterView';

export function filterContainers(context: CommandContext, text?: unknown): Promise<string> {
  return filterView(context.views.containers, text, {
    title: vscode.l10n.t('Filter Containers'),
    prompt: vscode.l10n.t('Show containers whose name, ID or image contains this text; empty shows all'),
  });
}
