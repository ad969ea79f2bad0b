/**
 * Gantry: View Container Stats. Opens `gantry:/container/<id>/<name>.stats`,
 * the running container's CPU, memory and PIDs as a read-only document that
 * updates every second until its tab closes (see
 * views/containers/containerStats.ts). Arguments: a node or name/ID;
 * without one, a QuickPick of running containers. Returns the opened
 * document.
 */
import * as vscode from 'vscode';
import { containerDocumentUri } from '../../views/containers/containerDocuments';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';
import { resolveRecord } from './resolveRecord';

export async function viewContainerStats(context: CommandContext, node?: unknown): Promise<vscode.TextDocument | undefined> {
  const [target] = await resolveTargets(context, node, undefined, {
    placeHolder: vscode.l10n.t('Select the container whose resource use to view'),
    states: ['running'],
  });
  if (!target) return undefined;
  const { id, name } = await resolveRecord(context, target);
  const uri = containerDocumentUri(id, name, 'stats');
  const document = await vscode.workspace.openTextDocument(uri);
  context.views.stats.watch(uri);
  await vscode.window.showTextDocument(document, { preview: false });
  return document;
}
