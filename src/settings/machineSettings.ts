/**
 * Settings that name something the extension acts on without asking: the
 * socket it connects to on activation and on every reconnect (and sends
 * registry credentials through), and the ssh config it passes as `ssh -F`
 * (whose ProxyCommand, `Match exec` and KnownHostsCommand run local
 * commands). A cloned repository's `.vscode/settings.json` must not be able
 * to set them, so they are read from the user's own settings only:
 *
 * - package.json gives them scope `machine`: VS Code ignores them in
 *   workspace and folder settings (trusted or not) and reads them from user
 *   settings, or, in a remote window (Remote-SSH, code-server), from that
 *   machine's remote settings.
 * - package.json lists them in `capabilities.untrustedWorkspaces
 *   .restrictedConfigurations`: in Restricted Mode VS Code drops their
 *   workspace values as well, and says so in the Settings editor.
 * - Here, `inspect()` is read and only the user (local or remote) value or
 *   the default is taken, whatever `vscode.workspace.isTrusted` says. For a
 *   machine-scoped setting that is the same answer VS Code gives; reading it
 *   this way keeps the guarantee in our code rather than in the host's
 *   handling of scopes (an older or forked workbench, a setting whose scope
 *   a user's settings sync predates). We do not let a *trusted* workspace
 *   set them either: trust is granted for a folder's tasks and debuggers,
 *   not for silently redirecting where Gantry connects; a per-project socket
 *   or ssh config belongs in the user's settings (or GANTRY_SOCKET).
 */
import * as vscode from 'vscode';

/** The settings read through machineSetting() (also restrictedConfigurations in package.json). */
export const MACHINE_SETTINGS = ['gantry.socketPath', 'gantry.ssh.configFile'] as const;
export type MachineSetting = (typeof MACHINE_SETTINGS)[number];

/** The trimmed user (or remote machine) value of a string setting, else its default; '' when neither. */
export function machineSetting(key: MachineSetting): string {
  const dot = key.lastIndexOf('.');
  const inspected = vscode.workspace.getConfiguration(key.slice(0, dot)).inspect<unknown>(key.slice(dot + 1));
  const value = inspected?.globalValue ?? inspected?.defaultValue;
  return typeof value === 'string' ? value.trim() : '';
}
