/**
 * Open in Browser (a published TCP port of a running container). The
 * address (publishedPorts.ts) goes through `vscode.env.asExternalUri`, which
 * in code-server and Remote-SSH turns a port of the extension's machine into
 * one the user's browser reaches (a proxy path or a forwarded port), then
 * `vscode.env.openExternal`. Arguments: a port item, a container (node,
 * name or ID); without one, a QuickPick of the published ports. Returns the
 * URI opened.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { pickPort, reachableAddress } from './publishedPorts';

export async function openPortInBrowser(context: CommandContext, arg?: unknown): Promise<vscode.Uri | undefined> {
  const node = await pickPort(context, arg, { placeHolder: vscode.l10n.t('Select the port to open'), tcpOnly: true });
  if (!node) return undefined;
  const address = reachableAddress(context, node);
  const local = vscode.Uri.parse(`http://${address.host}:${address.port}/`);
  const external = await vscode.env.asExternalUri(local);
  context.log.info(`Opening ${node.containerName}'s port ${node.binding.containerPort}: ${local.toString()} as ${external.toString(true)}`);
  if (!(await vscode.env.openExternal(external))) context.log.warn(`The browser did not open ${external.toString(true)}`);
  return external;
}
