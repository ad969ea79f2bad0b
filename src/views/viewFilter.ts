/**
 * What the Images and Containers views share around their items: the filter
 * (text, a `gantry.<view>.filtered` context key for the menus, an event for
 * the view's description) and the message items a tree shows instead of
 * items (the listing failed: an error and Retry; the filter matches nothing:
 * one item that clears it). The message texts are the views' own, so each
 * view words its nouns.
 */
import * as vscode from 'vscode';
import { describe } from '../../runtime/client';

export type ListView = 'images' | 'containers' | 'networks' | 'volumes' | 'registries';

export interface MessageNode<V extends ListView> {
  readonly kind: 'message';
  readonly id: string;
  readonly contextValue: `${V}Error` | `${V}Retry` | `${V}NoMatch`;
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: string;
}

/** A view's filter text. Changing it re-renders the tree (`rerender`) without listing again. */
export class ViewFilter implements vscode.Disposable {
  private value = '';
  private readonly emitter = new vscode.EventEmitter<string>();
  /** Fires with the new filter text ('' when cleared). */
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly view: ListView,
    private readonly rerender: () => void,
  ) {}

  get text(): string {
    return this.value;
  }

  set(text: string): void {
    const next = text.trim();
    if (next === this.value) return;
    this.value = next;
    void vscode.commands.executeCommand('setContext', `gantry.${this.view}.filtered`, next !== '');
    this.emitter.fire(next);
    this.rerender();
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** "Failed to list …" with the error, then Retry. */
export function listFailedNodes<V extends ListView>(view: V, label: string, error: unknown): MessageNode<V>[] {
  return [
    { kind: 'message', id: `${view}Error`, contextValue: `${view}Error`, label, description: describe(error), tooltip: describe(error) },
    { kind: 'message', id: `${view}Retry`, contextValue: `${view}Retry`, label: vscode.l10n.t('Retry') },
  ];
}

/** The one item shown when the filter matches nothing; clicking it clears the filter. */
export function noMatchNode<V extends ListView>(view: V, text: { label: string; description: string; tooltip?: string }): MessageNode<V> {
  return { kind: 'message', id: `${view}NoMatch`, contextValue: `${view}NoMatch`, ...text };
}

export function messageTreeItem<V extends ListView>(view: V, node: MessageNode<V>): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.contextValue = node.contextValue;
  item.description = node.description;
  item.tooltip = node.tooltip;
  if (node.contextValue === `${view}Error`) {
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
  } else if (node.contextValue === `${view}NoMatch`) {
    item.iconPath = new vscode.ThemeIcon('filter');
    item.command = { command: `gantry.${view}.clearFilter`, title: vscode.l10n.t('Clear Filter') };
  } else {
    item.iconPath = new vscode.ThemeIcon('refresh');
    item.command = { command: `gantry.${view}.refresh`, title: vscode.l10n.t('Retry') };
  }
  return item;
}
