/** Gantry: Clear Containers Filter. Shows every container again. */
import type { CommandContext } from '../registerCommands';

export function clearContainersFilter(context: CommandContext): void {
  context.views.containers.setFilter('');
}
