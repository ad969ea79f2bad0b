/** Gantry: Clear Images Filter. Shows every image again. */
import type { CommandContext } from '../commandContext';

export function clearImagesFilter(context: CommandContext): void {
  context.views.images.setFilter('');
}
