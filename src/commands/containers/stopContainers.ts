/**
 * Gantry: Stop Container. Sends each container its stop signal, then
 * SIGKILL after its stop timeout; a container stopped this way is not
 * restarted by its policy. Arguments: a node or name/ID, the selection;
 * without them, a QuickPick. Returns the stopped containers' records.
 */
import * as vscode from 'vscode';
import { type ContainerSummary } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';
import { runLifecycle } from './lifecycle';

export function stopContainers(context: CommandContext, node?: unknown, nodes?: unknown): Promise<ContainerSummary[]> {
  return runLifecycle(context, node, nodes, {
    progress: (what) => vscode.l10n.t('Stopping {0}', what),
    done: 'stopped',
    placeHolder: vscode.l10n.t('Select the containers to stop'),
    states: ['running', 'paused', 'restarting'],
    operation: 'stopping',
    act: (client, target) => client.containers.stop(target.id),
  });
}
