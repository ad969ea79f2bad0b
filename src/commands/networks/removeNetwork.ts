/**
 * Gantry: Remove Network… Removes one user network after a modal
 * confirmation. The daemon refuses while containers use it, naming them:
 * that refusal is shown as it is, in one error notification ("network
 * web is in use by …"), and nothing is removed.
 *
 * Arguments: a node or name, then `{ confirm?: boolean }`. Without a
 * target, a QuickPick of the removable networks. Returns the removed
 * network's ID, or undefined when the user declined.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { removable, resolveNetwork } from './networkArgs';

export interface RemoveNetworkOptions {
  readonly confirm?: boolean;
}

export async function removeNetwork(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<string | undefined> {
  const options = (rest.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) ?? {}) as RemoveNetworkOptions;
  const name = await resolveNetwork(context, node, { placeHolder: vscode.l10n.t('Select the network to remove'), applies: removable });
  if (!name) return undefined;
  if (options.confirm !== false) {
    const remove = vscode.l10n.t('Remove');
    const detail = vscode.l10n.t('Containers that name it in their configuration could not start again until it is created anew.');
    const answer = await vscode.window.showWarningMessage(vscode.l10n.t('Remove network {0}?', name), { modal: true, detail }, remove);
    if (answer !== remove) return undefined;
  }
  const client = context.connection.requireClient();
  // A refusal ("network web is in use by container api") names the network and its users:
  // the command wrapper shows it as it is, in one notification.
  const id = await client.networks.remove(name);
  context.log.info(`Removed network ${name} (${id})`);
  return id;
}
