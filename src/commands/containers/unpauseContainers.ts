/**
 * Gantry: Unpause Container. Thaws paused containers. Arguments: a node or
 * name/ID, the selection; without them, a QuickPick. Returns the IDs (as
 * given) of the unpaused containers.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { runLifecycle } from './lifecycle';

export function unpauseContainers(context: CommandContext, node?: unknown, nodes?: unknown): Promise<string[]> {
  return runLifecycle(context, node, nodes, {
    progress: (what) => vscode.l10n.t('Unpausing {0}', what),
    done: 'unpaused',
    placeHolder: vscode.l10n.t('Select the containers to unpause'),
    states: ['paused'],
    act: async (client, target) => {
      await client.containers.unpause(target.id);
      return target.id;
    },
  });
}
