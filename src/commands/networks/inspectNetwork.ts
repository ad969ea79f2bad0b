/**
 * Gantry: Inspect Network. Opens `gantry:/network/<name>.json`, the
 * network's inspect response as read-only JSON that follows its containers
 * (views/networks/networkDocuments.ts). Argument: a node or name; without
 * one, a QuickPick. Returns the opened document.
 */
import * as vscode from 'vscode';
import { networkDocumentUri } from '../../views/networks/networkDocuments';
import type { CommandContext } from '../commandContext';
import { resolveNetwork } from './networkArgs';

export async function inspectNetwork(context: CommandContext, node?: unknown): Promise<vscode.TextDocument | undefined> {
  const name = await resolveNetwork(context, node, { placeHolder: vscode.l10n.t('Select the network to inspect') });
  if (!name) return undefined;
  const document = await vscode.workspace.openTextDocument(networkDocumentUri(name));
  await vscode.window.showTextDocument(document, { preview: true });
  return document;
}
