/**
 * A QuickPick whose items follow what the user types (Pull Image…'s typed
 * reference, Run…'s "pull and run" entry). It resolves with what `accept`
 * makes of the selected item and the typed text once that is something
 * (Enter on nothing usable keeps it open), or undefined when it is hidden.
 * It shows `quickPick` and disposes of it.
 */
import * as vscode from 'vscode';

export function typedQuickPick<I extends vscode.QuickPickItem, R>(
  quickPick: vscode.QuickPick<I>,
  itemsFor: (text: string) => readonly I[],
  accept: (selected: I | undefined, text: string) => R | undefined,
): Promise<R | undefined> {
  return new Promise((resolve) => {
    const subscriptions: vscode.Disposable[] = [];
    const finish = (result: R | undefined) => {
      for (const s of subscriptions) s.dispose();
      quickPick.dispose();
      resolve(result);
    };
    subscriptions.push(
      quickPick.onDidChangeValue((value) => {
        quickPick.items = itemsFor(value.trim());
      }),
      quickPick.onDidAccept(() => {
        const result = accept(quickPick.selectedItems[0], quickPick.value.trim());
        if (result !== undefined) finish(result);
      }),
      quickPick.onDidHide(() => finish(undefined)),
    );
    quickPick.show();
  });
}
