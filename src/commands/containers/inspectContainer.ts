/**
 * Gantry: Inspect Container. Opens `gantry:/container/<id>/<name>.json`, a
 * read-only JSON document of the container's inspect response that follows
 * its state (see views/containers/containerDocuments.ts). Arguments: a node
 * or name/ID; without one, a QuickPick. Returns the opened document.
 */
import * as vscode from 'vscode';
import { containerDocumentUri } from '../../views/containers/containerDocuments';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';
import { resolveRecord } from './resolveRecord';

/** Inspects the clicked container (not the whole selection). */
export async function inspectContainer(context: CommandContext, node?: unknown): Promise<vscode.TextDocument | undefined> {
  const [target] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the container to inspect') });
  if (!target) return undefined;
  const { id, name } = await resolveRecord(context, target);
  const document = await vscode.workspace.openTextDocument(containerDocumentUri(id, name, 'inspect'));
  await vscode.window.showTextDocument(document, { preview: true });
  return document;
}
