/**
 * Gantry: Filter Images… Shows only the images whose name or ID contains
 * the text (case-insensitive); sets the `gantry.images.filtered` context key
 * that shows Clear Filter. Argument: the text (without one, an input box
 * holding the current filter). Returns the filter now in effect.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';

export async function filterImages(context: CommandContext, text?: unknown): Promise<string> {
  const provider = context.views.images;
  const value = typeof text === 'string'
    ? text
    : await vscode.window.showInputBox({
        title: vscode.l10n.t('Filter Images'),
        prompt: vscode.l10n.t('Show images whose name or ID contains this text; empty shows all'),
        value: provider.filter,
      });
  if (value !== undefined) provider.setFilter(value);
  return provider.filter;
}
