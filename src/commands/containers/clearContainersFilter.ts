/** Gantry: Clear Containers Filter. Shows every container again. */
import type { CommandContext } from '../commandContext';

export function clearContainersFilter(context: CommandContext): void {
  context.views.containers.setFilter('');
}
