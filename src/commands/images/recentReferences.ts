/**
 * The references the user pulled last (ten, newest first, in globalState so
 * they follow the user across workspaces), and the QuickPick that offers
 * them: the typed text is the first item, checked with parseReference as
 * the user types; the recent references follow.
 */
import * as vscode from 'vscode';
import { describe } from '../../../runtime/client';
import { familiarString, parseReference } from '../../../runtime/distribution/reference';
import type { CommandContext } from '../registerCommands';

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
      const ref = parseReference(value);
      return { label: value, description: vscode.l10n.t('pull {0}', familiarString(ref)), alwaysShow: true };
    } catch (e) {
      return { label: value, description: describe(e), detail: vscode.l10n.t('not a valid image reference'), alwaysShow: true };
    }
  };
  const isValid = (value: string) => {
    try {
      parseReference(value);
      return true;
    } catch {
      return false;
    }
  };

  return new Promise((resolve) => {
    const subscriptions: vscode.Disposable[] = [];
    const finish = (value: string | undefined) => {
      for (const s of subscriptions) s.dispose();
      pick.dispose();
      resolve(value);
    };
    subscriptions.push(
      pick.onDidChangeValue((value) => {
        const text = value.trim();
        pick.items = text && !recent.includes(text) ? [typedItem(text), ...recentItems] : recentItems;
      }),
      pick.onDidAccept(() => {
        const chosen = pick.selectedItems[0]?.label ?? pick.value.trim();
        if (chosen && isValid(chosen)) finish(chosen);
      }),
      pick.onDidHide(() => finish(undefined)),
    );
    pick.show();
  });
}
