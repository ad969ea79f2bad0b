/**
 * Which socket this machine's gantryd is at, found by the CLI's rule
 * (runtime/client/discovery.ts, docs/security.md "Finding the daemon"): the
 * setting `gantry.socketPath` first (as the CLI's `--socket`), then
 * `GANTRY_SOCKET`, then the user's own (rootless) daemon if one answers, then
 * the system daemon if the user may use it. The rule is discoverSocket's;
 * this only remembers its last answer, so the endpoint, the status bar and
 * Start Runtime can read it synchronously.
 *
 * Run again before every connect (LocalEndpoint's `discover`): a rootless
 * daemon started after the window opened is found at the next reconnect.
 * When nothing answers, `current` is the first place tried: the user's own
 * socket (root's is the system socket), which is where Start Runtime starts one.
 */
import { defaultSocket, discoverSocket, type DiscoveredSocket } from '../../runtime/client';

export class LocalSocket {
  private last: DiscoveredSocket | undefined;

  /** `setting` reads gantry.socketPath (machine scope: never a workspace's, settings/machineSettings.ts); `env` is read at each discovery. */
  constructor(
    private readonly setting: () => string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The socket the last discovery chose; before it (or once a named socket is no longer named), the setting, GANTRY_SOCKET or the default. */
  get current(): string {
    // A setting changed since the last discovery wins at once (hostSwitcher.ts reconnects on the change).
    const named = this.setting() || this.env.GANTRY_SOCKET;
    if (named) return named;
    const found = this.last?.source === 'user' || this.last?.source === 'system' ? this.last.socket : undefined;
    return found ?? defaultSocket(this.env);
  }

  /** The last discovery's full answer: how the socket was chosen, and why the others were not. */
  get discovered(): DiscoveredSocket | undefined {
    return this.last;
  }

  async discover(): Promise<DiscoveredSocket> {
    this.last = await discoverSocket({ flag: this.setting() || undefined, env: this.env });
    return this.last;
  }
}
