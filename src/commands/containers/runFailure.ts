/**
 * A run whose container was created but would not start, said once in the
 * user's terms: the container's name, what was wrong (the command not found
 * in the image, or not executable: the daemon's error reasons, which the
 * CLI turns into exit codes 127 and 126; else the daemon's message), and
 * what became of the container (asked of the daemon: a run leaves it in
 * Created, with an empty log), with a button that removes it.
 *
 * The report replaces the command wrapper's (registerCommands.ts): one
 * notification, fired once on `failures` as the wrapper does, so tests and
 * the API see it the same way. It is used for detached runs (the Start call
 * failed) and attached ones (the Attach call that starts failed, after the
 * command returned its terminal).
 */
import * as vscode from 'vscode';
import { ContainerStatus, type ContainerSummary, describe, ErrorReasons, isGantryError } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';

export const RUN_COMMAND = 'gantry.images.run';

/** The message for a start that failed with `error`; `status` is what the daemon says the container is now. */
export function runFailureMessage(
  container: ContainerSummary,
  imageLabel: string,
  error: unknown,
  status: ContainerStatus | undefined,
): string {
  const command = container.command[0] ?? '';
  const reason = isGantryError(error) && !error.transport ? error.reason : '';
  const what =
    reason === ErrorReasons.commandNotFound
      ? vscode.l10n.t('the command "{0}" was not found in the image {1}.', command, imageLabel)
      : reason === ErrorReasons.commandNotExecutable
        ? vscode.l10n.t('the command "{0}" in the image {1} is not executable.', command, imageLabel)
        : sentence(describe(error));
  return `${vscode.l10n.t('Could not run {0}:', container.name)} ${what}${leftIn(status)}`;
}

const sentence = (text: string) => (text.endsWith('.') ? text : `${text}.`);

function leftIn(status: ContainerStatus | undefined): string {
  switch (status) {
    case ContainerStatus.CONTAINER_STATUS_CREATED:
      return ` ${vscode.l10n.t('The container was left in Created, with an empty log.')}`;
    case ContainerStatus.CONTAINER_STATUS_EXITED:
      return ` ${vscode.l10n.t('The container was left in Exited.')}`;
    case ContainerStatus.CONTAINER_STATUS_DEAD:
      return ` ${vscode.l10n.t('The container was left in Dead.')}`;
    default:
      return '';
  }
}

/**
 * Reports the failed start once, offering to remove the container when it
 * is left stopped. Resolves once the failure is fired and shown, without
 * waiting for the user's answer (the command must not wait for a click).
 */
export async function reportRunFailure(
  context: CommandContext,
  container: ContainerSummary,
  imageLabel: string,
  error: unknown,
): Promise<void> {
  context.log.error(`${RUN_COMMAND} failed: ${container.name} (${container.id}) did not start: ${describe(error)}`);
  let status: ContainerStatus | undefined;
  try {
    status = (await context.connection.requireClient().containers.inspect(container.id, { timeoutMs: 5_000 })).container?.status;
  } catch (e) {
    context.log.warn(`Could not inspect ${container.name} after its failed start: ${describe(e)}`);
  }
  const message = runFailureMessage(container, imageLabel, error, status);
  context.failures.fire({ command: RUN_COMMAND, message });
  const remove = vscode.l10n.t('Remove Container');
  const showLog = vscode.l10n.t('Show Log');
  const offerRemove =
    status === ContainerStatus.CONTAINER_STATUS_CREATED ||
    status === ContainerStatus.CONTAINER_STATUS_EXITED ||
    status === ContainerStatus.CONTAINER_STATUS_DEAD;
  void vscode.window.showErrorMessage(message, ...(offerRemove ? [remove] : []), showLog).then((choice) => {
    if (choice === remove) void vscode.commands.executeCommand('gantry.containers.remove', container.id, undefined, { confirm: false });
    else if (choice === showLog) context.log.show();
  });
}
