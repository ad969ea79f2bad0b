/**
 * Filter Images… and Filter Containers…: the text given as the argument, or
 * else typed in an input box holding the current filter, becomes the view's
 * filter. Returns the filter now in effect.
 */
import * as vscode from 'vscode';

export interface FilterableView {
  readonly filter: string;
  setFilter(text: string): void;
}

export async function filterView(
  view: FilterableView,
  text: unknown,
  box: { readonly title: string; readonly prompt: string },
): Promise<string> {
  const value = typeof text === 'string' ? text : await vscode.window.showInputBox({ ...box, value: view.filter });
  if (value !== undefined) view.setFilter(value);
  return view.filter;
}
