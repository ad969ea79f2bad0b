/**
 * Copy Address (a published port of a running container): "localhost:8080"
 * on the clipboard, the address where the port is reached from this window
 * (publishedPorts.ts). Arguments as Open in Browser's. Returns the text
 * copied.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { addressText, pickPort, reachableAddress } from './publishedPorts';

export async function copyPortAddress(context: CommandContext, arg?: unknown): Promise<string | undefined> {
  const node = await pickPort(context, arg, { placeHolder: vscode.l10n.t('Select the port whose address to copy'), tcpOnly: false });
  if (!node) return undefined;
  const text = addressText(reachableAddress(context, node));
  await vscode.env.clipboard.writeText(text);
  return text;
}
