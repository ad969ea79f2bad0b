/**
 * Gantry: Open Shell in Container. Runs a shell in a running container
 * (bash when the image has it, else sh) with a TTY, in a VS Code terminal
 * joined to the exec session (terminals/stdioTerminal.ts): keystrokes go to
 * the shell, the terminal's size to the pty; closing the terminal ends the
 * exec, and the shell's exit closes the terminal with its exit code.
 *
 * The command line is fixed (no user input goes into it), so a `sh -c`
 * script is safe here. Arguments: a node or name/ID; without one, a
 * QuickPick of running containers. Returns the terminal and its session.
 */
import * as vscode from 'vscode';
import { StdioTerminal } from '../../terminals/stdioTerminal';
import { execConnection } from '../../terminals/stdioSessions';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';

/** `exec bash` only where bash exists: `sh -c 'bash || sh'` would start sh after a bash that exited non-zero. */
export const SHELL_ARGS = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; fi; exec sh'];

export interface ContainerTerminal {
  readonly terminal: vscode.Terminal;
  readonly session: StdioTerminal;
}

export async function openContainerShell(context: CommandContext, node?: unknown): Promise<ContainerTerminal | undefined> {
  const [target] = await resolveTargets(context, node, undefined, {
    placeHolder: vscode.l10n.t('Select the container to open a shell in'),
    states: ['running'],
  });
  if (!target) return undefined;
  const client = context.connection.requireClient();
  const session = new StdioTerminal({
    tty: true,
    log: context.log,
    connect: async (dimensions) =>
      execConnection(client, { id: target.id, args: SHELL_ARGS }, dimensions, (execId, pid) =>
        context.log.info(`Shell in ${target.name}: exec ${execId}, pid ${pid}`),
      ),
  });
  const terminal = vscode.window.createTerminal({
    name: vscode.l10n.t('{0} (shell)', target.name),
    pty: session,
    iconPath: new vscode.ThemeIcon('terminal'),
  });
  terminal.show();
  return { terminal, session };
}
