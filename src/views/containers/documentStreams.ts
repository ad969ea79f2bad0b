/**
 * The live container documents (logs, stats) each keep one daemon call per
 * open document: started when VS Code first asks for the document's content,
 * resumed after the link comes back, ended when the document closes. This
 * is that per-document bookkeeping, shared by containerLogs.ts and
 * containerStats.ts.
 */
import type * as vscode from 'vscode';

export interface DocumentStream {
  /** Whether its call is open. */
  readonly streaming: boolean;
  resume(): void;
  dispose(): void;
}

export class DocumentStreams<S extends DocumentStream> implements vscode.Disposable {
  private readonly streams = new Map<string, S>();

  /** The stream of `uri`'s document; `create` makes (and it is then resumed) one when there is none. */
  of(uri: vscode.Uri, create: () => S): S {
    const key = uri.toString();
    let stream = this.streams.get(key);
    if (!stream) {
      stream = create();
      this.streams.set(key, stream);
      stream.resume();
    }
    return stream;
  }

  has(uri: vscode.Uri): boolean {
    return this.streams.has(uri.toString());
  }

  all(): IterableIterator<S> {
    return this.streams.values();
  }

  /** How many calls are open: for tests (closing a document must end its call). */
  get streaming(): number {
    return [...this.streams.values()].filter((s) => s.streaming).length;
  }

  /** Ends the call of `uri`'s document. */
  stop(uri: vscode.Uri): void {
    const key = uri.toString();
    this.streams.get(key)?.dispose();
    this.streams.delete(key);
  }

  dispose(): void {
    for (const s of this.streams.values()) s.dispose();
    this.streams.clear();
  }
}
