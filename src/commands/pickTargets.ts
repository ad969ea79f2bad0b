/**
 * The QuickPick behind every "which ones?" of the commands (containers and
 * images alike): one entry per candidate, one or several picked, matching on
 * the detail line (the short ID) too. Empty when the user cancels.
 */
import * as vscode from 'vscode';

export async function pickTargets<I extends vscode.QuickPickItem, T>(
  items: readonly I[],
  options: { readonly placeHolder: string; readonly canPickMany?: boolean },
  targetOf: (item: I) => T,
): Promise<T[]> {
  if (options.canPickMany) {
    const picked = await vscode.window.showQuickPick(items, { placeHolder: options.placeHolder, canPickMany: true, matchOnDetail: true });
    return (picked ?? []).map(targetOf);
  }
  const picked = await vscode.window.showQuickPick(items, { placeHolder: options.placeHolder, matchOnDetail: true });
  return picked ? [targetOf(picked)] : [];
}
