/**
 * Which runtime this workspace uses, and the remote hosts it used lately,
 * kept in the workspace's state (ExtensionContext.workspaceState): another
 * workspace, or a window with no folder, has its own. The active host is
 * written when the user picks it (as `docker context use` does, reachable
 * or not); a host joins the recent list once it was connected to, so typos
 * do not linger there.
 */
import { LOCAL, LOCAL_SPEC, hostChoiceSpec, parseHostChoice, type HostChoice } from './hostChoice';

/** The part of vscode.Memento this needs (tests pass a Map-backed one). */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

const ACTIVE_KEY = 'gantry.host.active';
const RECENT_KEY = 'gantry.host.recent';
export const MAX_RECENT_HOSTS = 8;

export class HostStore {
  constructor(private readonly state: StateStore) {}

  /** The remembered runtime; local when none was chosen or what was stored no longer parses. */
  get active(): HostChoice {
    const spec = this.state.get<string>(ACTIVE_KEY);
    if (typeof spec !== 'string' || spec === LOCAL_SPEC) return LOCAL;
    try {
      return parseHostChoice(spec);
    } catch {
      return LOCAL;
    }
  }

  async setActive(choice: HostChoice): Promise<void> {
    await this.state.update(ACTIVE_KEY, hostChoiceSpec(choice));
  }

  /** "ssh://…" labels, most recent first. */
  get recent(): string[] {
    const list = this.state.get<unknown>(RECENT_KEY);
    return Array.isArray(list) ? list.filter((l): l is string => typeof l === 'string') : [];
  }

  /** Moves `label` to the front of the recent hosts, keeping at most MAX_RECENT_HOSTS. */
  async remember(label: string): Promise<void> {
    await this.state.update(RECENT_KEY, [label, ...this.recent.filter((l) => l !== label)].slice(0, MAX_RECENT_HOSTS));
  }

  async forget(label: string): Promise<void> {
    await this.state.update(
      RECENT_KEY,
      this.recent.filter((l) => l !== label),
    );
  }
}
