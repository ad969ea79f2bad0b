/**
 * Sort by Name / Creation Time / Status, from the Containers view's `…`
 * menu (a checkmark on the current one): sets `gantry.containers.sortBy` in
 * the user settings, and the view re-sorts its cached list (no list call).
 * Returns the order now in effect.
 */
import * as vscode from 'vscode';
import type { ContainerSortBy } from '../../views/containers/containerNodes';
import type { CommandContext } from '../commandContext';

export async function sortContainers(_context: CommandContext, sortBy: ContainerSortBy): Promise<ContainerSortBy> {
  const config = vscode.workspace.getConfiguration('gantry.containers');
  // A workspace value would hide a global one: change the value that is in effect where it is set.
  const inspected = config.inspect<ContainerSortBy>('sortBy');
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update('sortBy', sortBy, target);
  return sortBy;
}
