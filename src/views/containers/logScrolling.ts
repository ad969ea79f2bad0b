/**
 * Keeps the editors of a log document at its end while they follow, as the
 * Output panel does. One follow state per document (not per TextEditor:
 * VS Code makes a new TextEditor when a tab is shown again):
 *
 *   following   new lines scroll every visible editor of the document to
 *               the end; so do a tab coming back into view and an editor
 *               that shrank (a terminal panel opening below it)
 *   stopped     the user scrolled up (the first visible line went up while
 *               the document did not shrink): nothing moves
 *   resumed     any editor of the document shows the last line again
 *               (scrolled back down, Ctrl+End, View Logs run again)
 *
 * A document starts following, so it opens at its end.
 */
import * as vscode from 'vscode';

interface Seen {
  readonly top: number;
  readonly lineCount: number;
}

export class LogScrolling implements vscode.Disposable {
  /** Documents (by URI) that stopped following. */
  private readonly stopped = new Set<string>();
  private readonly seen = new WeakMap<vscode.TextEditor, Seen>();
  private readonly subscriptions: vscode.Disposable[];

  /** `isLog`: whether a document is one whose editors this follows. */
  constructor(private readonly isLog: (uri: vscode.Uri) => boolean) {
    this.subscriptions = [
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => this.scrolled(e.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.scrolled(e))),
      vscode.workspace.onDidChangeTextDocument((e) => this.grew(e.document)),
    ];
  }

  /** Whether the editors of `uri` follow its end. */
  following(uri: vscode.Uri): boolean {
    return !this.stopped.has(uri.toString());
  }

  /** Follow again and show the end now (View Logs on an open document). */
  follow(editor: vscode.TextEditor): void {
    this.stopped.delete(editor.document.uri.toString());
    this.reveal(editor);
  }

  /** The document was closed: a later open starts following again. */
  forget(uri: vscode.Uri): void {
    this.stopped.delete(uri.toString());
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  private grew(document: vscode.TextDocument): void {
    if (!this.isLog(document.uri) || !this.following(document.uri)) return;
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === document) this.reveal(editor);
  }

  private scrolled(editor: vscode.TextEditor): void {
    const { document } = editor;
    if (!this.isLog(document.uri)) return;
    const key = document.uri.toString();
    const top = editor.visibleRanges[0]?.start.line ?? 0;
    const before = this.seen.get(editor);
    this.seen.set(editor, { top, lineCount: document.lineCount });
    if (showsEnd(editor)) {
      this.stopped.delete(key);
    } else if (before && top < before.top && document.lineCount >= before.lineCount) {
      this.stopped.add(key);
    } else if (this.following(document.uri)) {
      // Shown again after a tab switch, shrunk, or grown past the view: back to the end.
      this.reveal(editor);
    }
  }

  private reveal(editor: vscode.TextEditor): void {
    const end = new vscode.Position(editor.document.lineCount - 1, 0);
    editor.revealRange(new vscode.Range(end, end), vscode.TextEditorRevealType.Default);
  }
}

/** The editor shows the last line of text (the line after it is the empty one after the last newline). */
export function showsEnd(editor: vscode.TextEditor): boolean {
  const last = editor.visibleRanges.at(-1);
  return last !== undefined && last.end.line >= editor.document.lineCount - 2;
}
