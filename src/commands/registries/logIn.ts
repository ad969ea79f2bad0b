/**
 * Gantry: Log In to Registry… Checks a user name and password with the
 * registry (Registry/Login, through the daemon, which reaches the registry
 * with its TLS settings) and stores them as `gantry login` does, in this
 * side's Docker config or its credential helper (the same credential store
 * code: runtime/distribution/credentials.ts). Pulls and pushes from this
 * window read them there. The Registries view lists the daemon user's
 * logins: for this machine's daemon running as this user, the same file.
 *
 * Arguments (all optional): the registry (a node or "host[:port]"), then
 * `{ username, password }` to answer the input boxes. Returns the registry's
 * status text, or undefined when cancelled.
 */
import * as vscode from 'vscode';
import { storeCredentials, toWireAuth } from '../../../runtime/client';
import { REGISTRIES_VIEW } from '../../views/registries/registriesTreeProvider';
import type { CommandContext } from '../commandContext';
import { registryFromArg, registryOptions } from './registryArgs';

export interface LogInOptions {
  readonly username?: string;
  readonly password?: string;
}

export async function logIn(context: CommandContext, arg?: unknown, ...rest: unknown[]): Promise<string | undefined> {
  const options = registryOptions<LogInOptions>([arg, ...rest]);
  const client = context.connection.requireClient();
  const server =
    registryFromArg(arg) ??
    (await vscode.window.showInputBox({
      title: vscode.l10n.t('Log In to Registry'),
      prompt: vscode.l10n.t('Registry host, e.g. ghcr.io or registry.example.com:5000 (docker.io for Docker Hub)'),
      value: 'docker.io',
    }));
  if (!server?.trim()) return undefined;
  const username =
    options.username ??
    (await vscode.window.showInputBox({ title: vscode.l10n.t('Log In to {0}', server), prompt: vscode.l10n.t('User name') }));
  if (!username) return undefined;
  const password =
    options.password ??
    (await vscode.window.showInputBox({
      title: vscode.l10n.t('Log In to {0}', server),
      prompt: vscode.l10n.t('Password or access token'),
      password: true,
    }));
  if (!password) return undefined;
  const auth = { username, password };
  const status = await client.images.login(server.trim(), toWireAuth(auth)!);
  await storeCredentials(server.trim(), auth);
  context.log.info(`Logged in to ${server.trim()} as ${username}`);
  context.views.refresh.refresh(REGISTRIES_VIEW, 'manual');
  void vscode.window.showInformationMessage(vscode.l10n.t('Logged in to {0}', server.trim()));
  return status;
}
