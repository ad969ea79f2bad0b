/**
 * Gantry: Log Out of Registry. Removes the daemon user's stored credentials
 * for the registry (Registry/Logout: the file the Registries view lists),
 * and, with this machine's daemon, the ones Log In… stored on this side.
 * Arguments: a registry node or "host[:port]"; without one, a QuickPick of
 * the view's registries. Returns whether anything was removed.
 */
import * as vscode from 'vscode';
import { removeCredentials } from '../../../runtime/client';
import { REGISTRIES_VIEW } from '../../views/registries/registriesTreeProvider';
import type { CommandContext } from '../commandContext';
import { registryFromArg } from './registryArgs';

export async function logOut(context: CommandContext, arg?: unknown): Promise<boolean | undefined> {
  const client = context.connection.requireClient();
  const server = registryFromArg(arg) ?? (await pickRegistry(context));
  if (!server) return undefined;
  let removed = await client.images.logout(server);
  if (context.connection.current.host === undefined) removed = (await removeCredentials(server)) || removed;
  context.log.info(removed ? `Logged out of ${server}` : `Not logged in to ${server}`);
  context.views.refresh.refresh(REGISTRIES_VIEW, 'manual');
  void vscode.window.showInformationMessage(
    removed ? vscode.l10n.t('Logged out of {0}', server) : vscode.l10n.t('Not logged in to {0}', server),
  );
  return removed;
}

async function pickRegistry(context: CommandContext): Promise<string | undefined> {
  const logins = await context.views.registries.registries();
  if (logins.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Not logged in to any registry.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    logins.map((l) => ({ label: l.server, description: l.username || l.helper, server: l.server })),
    { placeHolder: vscode.l10n.t('Select the registry to log out of') },
  );
  return picked?.server;
}
