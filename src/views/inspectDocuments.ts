/**
 * Read-only inspect documents on the `gantry:` scheme (images and
 * containers): JSON read from the daemon when VS Code opens or re-reads one,
 * and re-read when the daemon reports a change of what it shows. One class
 * for both; each kind says how its URIs name an object, how to read it and
 * which events change it. The live documents (logs, stats) stream instead
 * and have providers of their own (containers/containerLogs.ts,
 * containers/containerStats.ts).
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../client/connection';

type Client = ReturnType<RuntimeConnection['requireClient']>;
type RuntimeEvent = Parameters<Parameters<RuntimeConnection['onDidReceiveEvent']>[0]>[0];

export interface InspectKind<K> {
  /** The object `uri` names, or undefined when `uri` is not a document of this kind. */
  keyOf(uri: vscode.Uri): K | undefined;
  /** Whether `event` changes what the document of `key` shows. */
  changedBy(event: RuntimeEvent, key: K): boolean;
  /** The document's content, as a value to print as JSON. */
  read(client: Client, key: K, signal: AbortSignal): Promise<unknown>;
}

export class InspectDocuments<K> implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.changeEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly kind: InspectKind<K>,
  ) {
    this.subscription = connection.onDidReceiveEvent((event) => {
      for (const document of vscode.workspace.textDocuments) {
        const key = kind.keyOf(document.uri);
        if (key !== undefined && kind.changedBy(event, key)) this.changeEmitter.fire(document.uri);
      }
    });
  }

  matches(uri: vscode.Uri): boolean {
    return this.kind.keyOf(uri) !== undefined;
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const key = this.kind.keyOf(uri);
    if (key === undefined) throw new Error(`unknown Gantry document ${uri.toString()}`);
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      return JSON.stringify(await this.kind.read(this.connection.requireClient(), key, abort.signal), null, 2) + '\n';
    } finally {
      cancel.dispose();
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
