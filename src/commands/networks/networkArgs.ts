/**
 * Which network a network command acts on: the clicked node (from the
 * Networks view), a name or ID given as a string (code, tests), else one
 * picked from a QuickPick of the daemon's networks that the command applies
 * to (Remove: not the default `bridge`, nor a read-only one).
 */
import * as vscode from 'vscode';
import type { NetworkInfo } from '../../../runtime/client';
import { isNetworkNode, networkDescription } from '../../views/networks/networkNodes';
import type { CommandContext } from '../commandContext';

export async function resolveNetwork(
  context: CommandContext,
  arg: unknown,
  pick: { placeHolder: string; applies?: (network: NetworkInfo) => boolean },
): Promise<string | undefined> {
  if (isNetworkNode(arg)) return arg.network.name;
  if (typeof arg === 'string' && arg.trim()) return arg.trim();
  const networks = (await context.views.networks.networks()).filter(pick.applies ?? (() => true));
  if (networks.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No network to choose from.'));
    return undefined;
  }
  const chosen = await vscode.window.showQuickPick(
    networks.map((n) => ({ label: n.name, description: networkDescription(n) })),
    { placeHolder: pick.placeHolder },
  );
  return chosen?.label;
}

/** Whether the user may remove `network`: not the default one, nor one from --cni-conf-dir. */
export function removable(network: NetworkInfo): boolean {
  return !network.builtin && !network.readOnly;
}
