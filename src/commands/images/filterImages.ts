/**
 * Gantry: Filter Images… Shows only the images whose name or ID contains
 * the text (case-insensitive); sets the `gantry.images.filtered` context key
 * that shows Clear Filter. Argument: the text (without one, an input box
 * holding the current filter). Returns the filter now in effect.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { filterView } from '../filterView';

export function filterImages(context: CommandContext, text?: unknown): Promise<string> {
  return filterView(context.views.images, text, {
    title: vscode.l10n.t('Filter Images'),
    prompt: vscode.l10n.t('Show images whose name or ID contains this text; empty shows all'),
  });
}
