/** Gantry: Refresh Containers. Lists the containers again now (the view's Refresh button, and the Retry item). */
import { CONTAINERS_VIEW } from '../../views/containers/containersTreeProvider';
import type { CommandContext } from '../commandContext';

export function refreshContainers(context: CommandContext): void {
  context.views.refresh.refresh(CONTAINERS_VIEW, 'manual');
}
