/**
 * What a click on the status-bar item runs: while this machine's runtime is
 * not connected, the runtime menu (`src/commands/runtime/showRuntimeMenu.ts`:
 * Start Runtime, Reconnect, Connect to Host…, Show Log); connected, or using
 * a remote host, Connect to Host… as before.
 */
import type { ConnectionSnapshot } from '../client/connection';

export const RUNTIME_MENU_COMMAND = 'gantry.runtime.menu';

/** The command a click on the status-bar item runs in `snapshot`'s state. */
export function statusBarCommand(snapshot: ConnectionSnapshot): string {
  const local = snapshot.host === undefined;
  return local && (snapshot.state === 'disconnected' || snapshot.state === 'reconnecting') ? RUNTIME_MENU_COMMAND : 'gantry.host.connect';
}
