/** Gantry: Refresh Volumes. Lists the volumes again now (the view's Refresh button, and the Retry item). */
import { VOLUMES_VIEW } from '../../views/volumes/volumesTreeProvider';
import type { CommandContext } from '../commandContext';

export function refreshVolumes(context: CommandContext): void {
  context.views.refresh.refresh(VOLUMES_VIEW, 'manual');
}
