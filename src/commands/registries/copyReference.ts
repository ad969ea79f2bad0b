/** Gantry: Copy Reference. Puts a tag's full reference ("127.0.0.1:5000/team/app:1") on the clipboard; returns it. */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { tagFromArg } from './registryArgs';

export async function copyReference(_context: CommandContext, node?: unknown): Promise<string> {
  const reference = tagFromArg(node);
  await vscode.env.clipboard.writeText(reference);
  return reference;
}
