/**
 * Gantry: Inspect Image. Opens `gantry:/image/<name>.json`, a read-only JSON
 * document of the image's inspect response (see views/images/imageDocuments.ts).
 * Arguments: an image node or record name; without one, a QuickPick.
 * Returns the opened document.
 */
import * as vscode from 'vscode';
import { imageDocumentUri } from '../../views/images/imageDocuments';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './imageArgs';

/** Inspects the clicked image (not the whole selection). */
export async function inspectImage(context: CommandContext, node?: unknown): Promise<vscode.TextDocument | undefined> {
  const [target] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the image to inspect') });
  if (!target) return undefined;
  const document = await vscode.workspace.openTextDocument(imageDocumentUri(target.name));
  await vscode.window.showTextDocument(document, { preview: true });
  return document;
}
