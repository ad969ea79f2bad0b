/**
 * The one content provider of the `gantry:` scheme (VS Code takes one per
 * scheme). It hands each URI to the provider that owns its path:
 *   /image/<name>.json                   image inspect (inspectDocuments.ts, images/imageDocuments.ts)
 *   /container/<id>/<name>.json          container inspect (inspectDocuments.ts, containers/containerDocuments.ts)
 *   /container/<id>/<name>.log           container logs, following (containers/containerLogs.ts)
 *   /container/<id>/<name>.stats         container CPU/memory, live (containers/containerStats.ts)
 * and forwards their change events. Disposing it disposes them.
 */
import * as vscode from 'vscode';

export const GANTRY_SCHEME = 'gantry';

export interface GantryDocumentRoute {
  /** Whether this provider owns `uri`. */
  matches(uri: vscode.Uri): boolean;
  readonly provider: vscode.TextDocumentContentProvider & vscode.Disposable;
}

export class GantryDocumentRouter implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly routes: readonly GantryDocumentRoute[]) {
    for (const { provider } of routes) {
      if (provider.onDidChange) this.subscriptions.push(provider.onDidChange((uri) => this.changeEmitter.fire(uri)));
    }
  }

  provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): vscode.ProviderResult<string> {
    const route = this.routes.find((r) => r.matches(uri));
    if (!route) throw new Error(`unknown Gantry document ${uri.toString()}`);
    return route.provider.provideTextDocumentContent(uri, token);
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    for (const { provider } of this.routes) provider.dispose();
    this.changeEmitter.dispose();
  }
}
