/**
 * Gantry: View Container Logs. Opens `gantry:/container/<id>/<name>.log`,
 * the container's log as a read-only document that keeps following new
 * lines until it is closed (see views/containers/containerLogs.ts), at its
 * end, following new lines until the user scrolls up (logScrolling.ts); run
 * again on an open log, it goes back to the end and follows. Arguments: a node or name/ID; without one, a
 * QuickPick. Returns the opened document.
 */
import * as vscode from 'vscode';
import { containerDocumentUri } from '../../views/containers/containerDocuments';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';
import { resolveRecord } from './resolveRecord';

export async function viewContainerLogs(context: CommandContext, node?: unknown): Promise<vscode.TextDocument | undefined> {
  const [target] = await resolveTargets(context, node, undefined, {
    placeHolder: vscode.l10n.t('Select the container whose logs to view'),
  });
  if (!target) return undefined;
  const { id, name } = await resolveRecord(context, target);
  const document = await vscode.workspace.openTextDocument(containerDocumentUri(id, name, 'logs'));
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  context.views.logs.revealEnd(editor);
  return document;
}
