/** Gantry: Refresh Networks. Lists the networks again now (the view's Refresh button, and the Retry item). */
import { NETWORKS_VIEW } from '../../views/networks/networksTreeProvider';
import type { CommandContext } from '../commandContext';

export function refreshNetworks(context: CommandContext): void {
  context.views.refresh.refresh(NETWORKS_VIEW, 'manual');
}
