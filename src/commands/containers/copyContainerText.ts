/**
 * Copy Container ID and Copy Container Name: the clicked container's field
 * (not the whole selection's), read from its record, on the clipboard.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';
import { resolveRecord } from './resolveRecord';

export async function copyContainerField(
  context: CommandContext,
  node: unknown,
  field: 'id' | 'name',
  placeHolder: string,
): Promise<string | undefined> {
  const [target] = await resolveTargets(context, node, undefined, { placeHolder });
  if (!target) return undefined;
  const text = (await resolveRecord(context, target))[field];
  await vscode.env.clipboard.writeText(text);
  return text;
}
