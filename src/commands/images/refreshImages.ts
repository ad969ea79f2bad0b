/** Gantry: Refresh Images. Lists the images again now (the view's Refresh button, and the Retry item). */
import { IMAGES_VIEW } from '../../views/images/imagesTreeProvider';
import type { CommandContext } from '../commandContext';

export function refreshImages(context: CommandContext): void {
  context.views.refresh.refresh(IMAGES_VIEW, 'manual');
}
