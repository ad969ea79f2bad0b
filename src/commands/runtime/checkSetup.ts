/**
 * Gantry: Check Set-up (`gantry.doctor`): the rows of `gantry doctor`
 * (runtime/doctor, the same checks) for this machine, in a Markdown preview
 * of a read-only `gantry-setup:` document: each prerequisite of the rootful
 * and the rootless daemon with ok, FAIL or warn and the fix. Run again, the
 * open preview follows. It needs no daemon, and checks the machine the
 * extension host runs on (in a Remote-SSH window, that host). Returns the
 * report to programmatic callers (tests); `{ show: false }` only checks.
 */
import * as vscode from 'vscode';
import type { DoctorReport } from '../../../runtime/doctor';
import type { CommandContext } from '../commandContext';
import { checkThisHost, describeBlockers, doctorMarkdown, startBlockers } from './startPrerequisites';

const SCHEME = 'gantry-setup';
const URI = vscode.Uri.from({ scheme: SCHEME, path: '/Gantry Set-up.md' });

/** The last report's page; registered on first use. */
class SetupDocument implements vscode.TextDocumentContentProvider {
  private readonly changes = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changes.event;
  private text = '';

  set(text: string): void {
    this.text = text;
    this.changes.fire(URI);
  }

  provideTextDocumentContent(): string {
    return this.text;
  }
}

let page: SetupDocument | undefined;

export async function checkSetup(context: CommandContext, options?: unknown): Promise<DoctorReport> {
  const report = checkThisHost();
  const blockers = startBlockers(report);
  context.log.info(
    `Set-up check: ${report.mode} for ${report.user} is ${report.ok ? 'ready' : `not ready: ${describeBlockers(blockers).join('; ')}`}`,
  );
  if ((options as { show?: unknown } | undefined)?.show === false) return report;
  if (!page) {
    page = new SetupDocument();
    context.extension.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(SCHEME, page), {
      dispose: () => (page = undefined),
    });
  }
  page.set(doctorMarkdown(report));
  // The rendered preview where the built-in Markdown extension is there; the text otherwise.
  const commands = await vscode.commands.getCommands(true);
  if (commands.includes('markdown.showPreview')) {
    await vscode.commands.executeCommand('markdown.showPreview', URI);
  } else {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(URI), { preview: true });
  }
  return report;
}
