/**
 * Gantry: Kill Container. Sends SIGKILL at once (no stop timeout).
 * Arguments: a node or name/ID, the selection, then `{ signal?: string }`
 * ("SIGHUP", "HUP" or a number); without targets, a QuickPick. Returns the
 * IDs (as given) of the containers signalled.
 */
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs } from './containerArgs';
import { runLifecycle } from './lifecycle';

export interface KillOptions {
  readonly signal?: string;
}

export function killContainers(context: CommandContext, node?: unknown, nodes?: unknown, ...rest: unknown[]): Promise<string[]> {
  const { signal = '' } = optionsFromArgs<KillOptions>(rest);
  return runLifecycle(context, node, nodes, {
    progress: (what) => vscode.l10n.t('Killing {0}', what),
    done: `killed${signal ? ` (${signal})` : ''}`,
    placeHolder: vscode.l10n.t('Select the containers to kill'),
    states: ['running', 'paused', 'restarting'],
    act: async (client, target) => {
      await client.containers.kill(target.id, signal);
      return target.id;
    },
  });
}
