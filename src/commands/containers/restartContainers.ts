/**
 * Gantry: Restart Container. Stops (if running) and starts each container.
 * Arguments: a node or name/ID, the selection; without them, a QuickPick.
 * Returns the restarted containers' records.
 */
import * as vscode from 'vscode';
import { type ContainerSummary } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';
import { runLifecycle } from './lifecycle';

export function restartContainers(context: CommandContext, node?: unknown, nodes?: unknown): Promise<ContainerSummary[]> {
  return runLifecycle(context, node, nodes, {
    progress: (what) => vscode.l10n.t('Restarting {0}', what),
    done: 'restarted',
    placeHolder: vscode.l10n.t('Select the containers to restart'),
    states: ['running', 'paused', 'restarting', 'created', 'exited'],
    operation: 'restarting',
    act: (client, target) => client.containers.restart(target.id),
  });
}
