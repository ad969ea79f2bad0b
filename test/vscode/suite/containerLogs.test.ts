// The logs document (View Container Logs) as the user sees it in a real
// workbench: it opens at its end and follows new lines while the editor
// shows the end, through a terminal panel opening and a tab switch; it stops
// following when scrolled up and resumes at the end, as the Output panel
// does. And restarts are marked in it like exits.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { ContainerStatus as S } from '../../../runtime/api/gen/gantry/v1/containers';
import { ContainersHarness, PREFIX, waitFor } from './containersHarness';

/** 2000 lines at once, then one every 0.1 s; exits 0 on SIGTERM. */
const LONG_TICKER = `sh -c 'trap "exit 0" TERM; i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done; while true; do echo "line $i"; i=$((i+1)); sleep 0.1; done'`;

/**
 * Counts its runs in /tmp/n: runs 1 and 2 exit 1 (restarted by on-failure), run 3 on keeps running
 * until SIGTERM. Run 1 exits only once /tmp/go exists: after the test opened the log.
 */
const FLAKY = `sh -c 'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; echo "run $n"; while [ ! -e /tmp/go ]; do sleep 0.1; done; if [ $n -lt 3 ]; then exit 1; fi; trap "exit 0" TERM; while true; do sleep 0.1; done'`;

/** An empty terminal: showing it opens the panel, which takes height from the editor. */
function quietTerminal(name: string): vscode.Terminal {
  const write = new vscode.EventEmitter<string>();
  return vscode.window.createTerminal({ name, pty: { onDidWrite: write.event, open: () => undefined, close: () => write.dispose() } });
}

describe('Container logs document: stays at its end, marks restarts (code-server)', function () {
  this.timeout(120_000);
  const h = new ContainersHarness();
  const LONG = `${PREFIX}long-log`;
  let document: vscode.TextDocument;

  before(async () => {
    await h.setUp();
    await vscode.commands.executeCommand('workbench.action.closePanel');
    await vscode.commands.executeCommand('gantry.images.run', h.image, { name: LONG, command: LONG_TICKER });
    await h.daemonWhere(LONG, 'running', (c) => c.status === S.CONTAINER_STATUS_RUNNING);
  });
  after(() => h.tearDown());

  const editor = () => vscode.window.visibleTextEditors.find((e) => e.document === document);
  /** The editor shows the document's last line of text (the line after it is the empty one after the last newline). */
  const atEnd = () => {
    const e = editor();
    const last = e?.visibleRanges.at(-1);
    return e && last && last.end.line >= e.document.lineCount - 2 ? true : undefined;
  };
  const where = () => {
    const e = editor();
    const tail = JSON.stringify(document.getText().slice(-120));
    return e
      ? `visible ${JSON.stringify(e.visibleRanges.map((r) => [r.start.line, r.end.line]))} of ${e.document.lineCount} lines, ending ${tail}`
      : `no visible editor; the text ends ${tail}`;
  };
  /** Waits for `count` more lines than now; then the editor must show the end (it followed them). */
  const followsNext = async (count: number, what: string) => {
    const from = document.lineCount;
    await waitFor(`${count} more lines (${what})`, () => (document.lineCount >= from + count ? true : undefined), where);
    await waitFor(`the end shown after new lines (${what})`, atEnd, where);
  };

  it('opens a long log at its end', async () => {
    document = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewLogs', LONG);
    await waitFor('the first 2000 lines', () => (/^line 1999$/m.test(document.getText()) ? true : undefined), where);
    await waitFor('the end shown', atEnd, where);
    await followsNext(10, 'just opened');
  });

  it('an editor shown for a log that already has its lines starts at the end (a reopened or restored tab)', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const loaded = await vscode.workspace.openTextDocument(document.uri);
    await waitFor('the lines loaded without an editor', () => (loaded.lineCount > 2000 ? true : undefined));
    document = loaded;
    await vscode.window.showTextDocument(loaded, { preview: false });
    await waitFor('the end shown', atEnd, where);
    await followsNext(10, 'shown again');
  });

  it('keeps following when a terminal opens below it', async () => {
    const terminal = quietTerminal('other');
    try {
      terminal.show(true);
      await waitFor('the terminal panel open', () => (vscode.window.activeTerminal === terminal ? true : undefined));
      await followsNext(20, 'terminal open');
    } finally {
      terminal.dispose();
    }
  });

  it('keeps following after a switch to another tab and back', async () => {
    const other = await vscode.workspace.openTextDocument({ content: 'another tab\n' });
    await vscode.window.showTextDocument(other, { preview: false, viewColumn: editor()?.viewColumn });
    await waitFor('the log hidden', () => (editor() ? undefined : true));
    const hiddenAt = document.lineCount;
    await waitFor('lines while hidden', () => (document.lineCount >= hiddenAt + 20 ? true : undefined));
    await vscode.window.showTextDocument(document, { preview: false });
    await waitFor('the end shown on return', atEnd, where);
    await followsNext(10, 'after the tab switch');
  });

  it('stops following when scrolled up, and follows again back at the end', async () => {
    await vscode.window.showTextDocument(document, { preview: false });
    // Scrolled while no line arrives: a line arriving with the scroll would be revealed before the extension hears of it.
    await vscode.commands.executeCommand('gantry.containers.stop', LONG);
    await waitFor('the exit marked', () => (document.getText().endsWith('--- exited with code 0 ---\n') ? true : undefined), where);
    await waitFor('the end shown', atEnd, where);
    await vscode.commands.executeCommand('editorScroll', { to: 'up', by: 'page', value: 5 });
    const top = await waitFor('scrolled up', () => (atEnd() ? undefined : editor()?.visibleRanges[0].start.line), where);
    const from = document.lineCount;
    await vscode.commands.executeCommand('gantry.containers.start', LONG);
    await waitFor('lines after the scroll', () => (document.lineCount >= from + 20 ? true : undefined), where);
    assert.equal(editor()?.visibleRanges[0].start.line, top, `it scrolled by itself: ${where()}`);
    await vscode.commands.executeCommand('cursorBottom');
    await followsNext(20, 'back at the end');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('marks restarts, by the restart policy and by the user, like exits', async () => {
    const name = `${PREFIX}flaky`;
    await vscode.commands.executeCommand('gantry.images.run', h.image, { name, command: FLAKY, restartPolicy: 'on-failure' });
    const log = await vscode.commands.executeCommand<vscode.TextDocument>('gantry.containers.viewLogs', name);
    const text = () => JSON.stringify(log.getText());
    await waitFor('the first run in the log', () => (log.getText() === 'run 1\n' ? true : undefined), text);
    const { id } = (await h.daemon(name))!;
    for await (const _ of h.client.containers.exec({ id, args: ['touch', '/tmp/go'] }).responses()) {
      // until the exec ends
    }
    const restarted = (code: number) => `--- exited with code ${code}, restarted ---\n`;
    const policy = `run 1\n${restarted(1)}run 2\n${restarted(1)}run 3\n`;
    await waitFor('two restarts by the policy, marked', () => (log.getText() === policy ? true : undefined), text);
    await vscode.commands.executeCommand('gantry.containers.restart', name);
    await waitFor('the restart by the user, marked', () => (log.getText() === `${policy}${restarted(0)}run 4\n` ? true : undefined), text);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
