/**
 * Gantry: Start Container. Starts created or exited containers (the
 * selection in the tree). Arguments: a node or name/ID, the selection;
 * without them, a QuickPick. Returns the started containers' records.
 */
import * as vscode from 'vscode';
import { type ContainerSummary } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';
import { runLifecycle } from './lifecycle';

export function startContainers(context: CommandContext, node?: unknown, nodes?: unknown): Promise<ContainerSummary[]> {
  return runLifecycle(context, node, nodes, {
    progress: (what) => vscode.l10n.t('Starting {0}', what),
    done: 'started',
    placeHolder: vscode.l10n.t('Select the containers to start'),
    states: ['created', 'exited'],
    act: (client, target) => client.containers.start(target.id),
  });
}
