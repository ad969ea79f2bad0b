// Commands report a failure once (a notification) and resolve instead of
// rejecting, so VS Code adds no second, generic error. Tests read the failure
// from the extension's onDidFailCommand event.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { CommandFailure } from '../../../src/extension';

/** Runs a command that must fail; resolves with the one failure it reported. */
export async function expectFailure(
  api: { readonly onDidFailCommand: vscode.Event<CommandFailure> },
  command: string,
  ...args: unknown[]
): Promise<CommandFailure> {
  const seen: CommandFailure[] = [];
  const sub = api.onDidFailCommand((f) => seen.push(f));
  try {
    // Must resolve: a rejection would surface as VS Code's own error message.
    await vscode.commands.executeCommand(command, ...args);
  } finally {
    sub.dispose();
  }
  assert.equal(seen.length, 1, `${command} reported ${seen.length} failures, expected exactly one`);
  assert.equal(seen[0].command, command);
  return seen[0];
}
