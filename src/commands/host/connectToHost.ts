/**
 * Gantry: Connect to Host… (gantry.host.connect) Switches the window's
 * runtime: this machine's gantryd, or gantryd on a host over SSH, deployed
 * and started there when needed. A remote connect runs in a progress
 * notification showing its steps (probe, upload, start); cancelling it goes
 * back to the runtime used before. Picking the current runtime reconnects.
 *
 * Argument (optional): "local" or a host as `ssh://[user@]host[:port]`,
 * `user@host[:port]` or an ssh_config alias — then no picker. Returns the
 * connection's state once connected; throws with the reason when the first
 * attempt failed (the connection keeps retrying when that can help).
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot } from '../../client/connection';
import { parseHostChoice, sameChoice, type HostChoice } from '../../hosts/hostChoice';
import { pickHost } from '../../hosts/hostQuickPick';
import type { CommandContext } from '../commandContext';

export async function connectToHost(context: CommandContext, arg?: unknown): Promise<ConnectionSnapshot | undefined> {
  const choice = typeof arg === 'string' ? parseHostChoice(arg) : await pickHost(context.hosts);
  if (!choice) return undefined;
  const previous = context.hosts.current;
  const snapshot =
    choice.kind === 'ssh' && !sameChoice(choice, previous)
      ? await withProgress(context, choice, previous)
      : await context.hosts.switchTo(choice);
  if (!snapshot) return undefined;
  if (snapshot.state !== 'connected') {
    const where = choice.kind === 'ssh' ? choice.label : snapshot.socket;
    throw new Error(
      `Cannot connect to gantryd on ${where}: ${snapshot.lastError ?? 'no answer'}${snapshot.retrying ? ' (Gantry keeps retrying)' : ''}`,
    );
  }
  return snapshot;
}

/** The switch in a notification that shows each step; Cancel goes back to `previous`. */
function withProgress(
  context: CommandContext,
  choice: HostChoice & { kind: 'ssh' },
  previous: HostChoice,
): Thenable<ConnectionSnapshot | undefined> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Connecting to {0}', choice.label), cancellable: true },
    async (progress, token) => {
      const steps = context.connection.onDidChange((s) => {
        if (s.host === choice.label && s.state === 'connecting' && s.progress) progress.report({ message: s.progress });
      });
      let cancelled = false;
      const cancel = token.onCancellationRequested(() => {
        cancelled = true;
        context.log.info(
          `Connecting to ${choice.label} cancelled; back to ${previous.kind === 'ssh' ? previous.label : 'the local runtime'}`,
        );
        void context.hosts.switchTo(previous);
      });
      try {
        const snapshot = await context.hosts.switchTo(choice);
        return cancelled ? undefined : snapshot;
      } finally {
        steps.dispose();
        cancel.dispose();
      }
    },
  );
}
