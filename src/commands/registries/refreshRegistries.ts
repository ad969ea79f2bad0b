/** Gantry: Refresh Registries. Lists logins, repositories and tags again (the view's Refresh button, and the Retry item). */
import { REGISTRIES_VIEW } from '../../views/registries/registriesTreeProvider';
import type { CommandContext } from '../commandContext';

export function refreshRegistries(context: CommandContext): void {
  context.views.refresh.refresh(REGISTRIES_VIEW, 'manual');
}
