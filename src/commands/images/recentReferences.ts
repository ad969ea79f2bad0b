/**
 * The references the user pulled last (ten, newest first, in globalState so
 * they follow the user across workspaces), and the QuickPick that offers
 * them: the typed text is the first item, checked with imageReference as
 * the user types; the recent references follow.
 */
import * as vscode from 'vscode';
import { describe } from '../../../runtime/client';
import { imageReference } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { typedQuickPick } from '../typedQuickPick';

const RECENT_KEY = 'gantry.images.recentPulls';
const MAX_RECENT = 10;

export function recentReferences(context: CommandContext): string[] {
  return context.extension.globalState.get<string[]>(RECENT_KEY, []);
}

export async function rememberReference(context: CommandContext, reference: string): Promise<void> {
  const recent = recentReferences(context).filter((r) => r !== reference);
  await context.extension.globalState.update(RECENT_KEY, [reference, ...recent].slice(0, MAX_RECENT));
}

/** Resolves with the reference to pull, or undefined when the user cancels. */
export function pickReference(context: CommandContext): Promise<string | undefined> {
  const recent = recentReferences(context);
  const recentItems: vscode.QuickPickItem[] = recent.map((r) => ({ label: r, description: vscode.l10n.t('recently pulled') }));
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  pick.title = vscode.l10n.t('Pull Image');
  pick.placeholder = vscode.l10n.t('Image to pull, e.g. busybox:latest or registry.example.com/team/app:1.2');
  pick.matchOnDescription = true;
  pick.items = recentItems;

  const typedItem = (value: string): vscode.QuickPickItem => {
    try {
      return { label: value, description: vscode.l10n.t('pull {0}', imageReference(value).shown), alwaysShow: true };
    } catch (e) {
      return { label: value, description: describe(e), detail: vscode.l10n.t('not a valid image reference'), alwaysShow: true };
    }
  };
  const isValid = (value: string) => {
    try {
      imageReference(value);
      return true;
    } catch {
      return false;
    }
  };

  return typedQuickPick(
    pick,
    (text) => (text && !recent.includes(text) ? [typedItem(text), ...recentItems] : recentItems),
    (selected, text) => {
      const chosen = selected?.label ?? text;
      return chosen && isValid(chosen) ? chosen : undefined;
    },
  );
}
