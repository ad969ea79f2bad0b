/**
 * Gantry: Pause Container. Freezes every process of running containers
 * (cgroup freezer). Arguments: a node or name/ID, the selection; without
 * them, a QuickPick. Returns the IDs (as given) of the paused containers.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { runLifecycle } from './lifecycle';

export function pauseContainers(context: CommandContext, node?: unknown, nodes?: unknown): Promise<string[]> {
  return runLifecycle(context, node, nodes, {
    progress: (what) => vscode.l10n.t('Pausing {0}', what),
    done: 'paused',
    placeHolder: vscode.l10n.t('Select the containers to pause'),
    states: ['running'],
    act: async (client, target) => {
      await client.containers.pause(target.id);
      return target.id;
    },
  });
}
