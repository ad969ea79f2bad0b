/**
 * Read-only JSON documents for `gantry:` URIs: `gantry:/image/<name>.json`
 * shows `images.inspect(<name>)` as the CLI's `gantry inspect` prints it
 * (the stored manifest and config parsed, under `manifest` and `rawConfig`).
 * The tab title is the last path segment, e.g. `busybox:latest.json`.
 *
 * An open document is re-read when the daemon reports that its name now
 * points at another image (/images/update) or was created again.
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';

export const GANTRY_SCHEME = 'gantry';
const IMAGE_PREFIX = '/image/';
const JSON_SUFFIX = '.json';

/** The document URI of an image record name ("docker.io/library/busybox:latest"). */
export function imageDocumentUri(name: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GANTRY_SCHEME, path: `${IMAGE_PREFIX}${name}${JSON_SUFFIX}` });
}

function imageNameOf(uri: vscode.Uri): string | undefined {
  if (!uri.path.startsWith(IMAGE_PREFIX) || !uri.path.endsWith(JSON_SUFFIX)) return undefined;
  return uri.path.slice(IMAGE_PREFIX.length, -JSON_SUFFIX.length);
}

export class GantryDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscription: vscode.Disposable;
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly connection: RuntimeConnection) {
    this.subscription = connection.onDidReceiveEvent((event) => {
      if (event.topic !== '/images/update' && event.topic !== '/images/create') return;
      const uri = imageDocumentUri(event.id);
      if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) this.changeEmitter.fire(uri);
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const name = imageNameOf(uri);
    if (name === undefined) throw new Error(`unknown Gantry document ${uri.toString()}`);
    const abort = new AbortController();
    const cancel = token.onCancellationRequested(() => abort.abort());
    try {
      const details = await this.connection.requireClient().images.inspect(name, { signal: abort.signal });
      const document = {
        ...details,
        manifest: JSON.parse(details.manifestJson) as unknown,
        rawConfig: JSON.parse(details.configJson) as unknown,
        manifestJson: undefined,
        configJson: undefined,
      };
      return JSON.stringify(document, null, 2) + '\n';
    } finally {
      cancel.dispose();
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
