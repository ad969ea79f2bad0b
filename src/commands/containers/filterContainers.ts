/**
 * Gantry: Filter Containers… Shows only the containers whose name, ID or
 * image contains the text (case-insensitive); sets the
 * `gantry.containers.filtered` context key that shows Clear Filter.
 * Argument: the text (without one, an input box holding the current
 * filter). Returns the filter now in effect.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';

export async function filterContainers(context: CommandContext, text?: unknown): Promise<string> {
  const provider = context.views.containers;
  const value = typeof text === 'string'
    ? text
    : await vscode.window.showInputBox({
        title: vscode.l10n.t('Filter Containers'),
        prompt: vscode.l10n.t('Show containers whose name, ID or image contains this text; empty shows all'),
        value: provider.filter,
      });
  if (value !== undefined) provider.setFilter(value);
  return provider.filter;
}
