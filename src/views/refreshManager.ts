/**
 * Every refresh of a Gantry view goes through one function:
 * `refresh(view, reason)`. Its sources are
 *   - daemon events whose topic starts with one of the view's prefixes
 *     ("/images/"),
 *   - a gap in the event stream (events were missed: every view re-lists),
 *   - connection changes (state, host or socket),
 *   - changes to the view's settings,
 *   - the view's Refresh button (reason 'manual').
 * Everything except 'manual' is debounced per view: the first request opens
 * a 500 ms window, requests inside it join it, and the view refreshes once
 * when it closes (a steady stream of events refreshes at most twice a
 * second, never starves). 'manual' cancels the window and refreshes now.
 *
 * There is no polling: while connected the event stream says what changed,
 * and the connection notices a dead daemon by itself. A refresh only marks
 * the view stale; the provider lists again when VS Code next asks for its
 * children, which it does only for a visible view.
 *
 * The manager is one Disposable: it owns its event subscriptions, timers
 * and registrations; disposing it stops every pending refresh.
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';

export type RefreshReason = 'manual' | 'event' | 'missedEvents' | 'connection' | 'settings';

/** What a view hands the manager: its provider's refresh, and what makes it stale. */
export interface RefreshTarget {
  /** Marks the view stale and fires its change event. */
  refresh(reason: RefreshReason): void;
  /** Daemon event topic prefixes that concern the view, e.g. ["/images/"]. */
  readonly topics: readonly string[];
  /** Settings sections that change what the view shows, e.g. ["gantry.images"]. */
  readonly settings: readonly string[];
}

export const REFRESH_DEBOUNCE_MS = 500;

export class RefreshManager implements vscode.Disposable {
  private readonly targets = new Map<string, RefreshTarget>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; reasons: Set<RefreshReason> }>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastConnection: ConnectionSnapshot;
  private disposed = false;

  constructor(
    connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.lastConnection = connection.current;
    this.subscriptions.push(
      connection.onDidReceiveEvent((event) => {
        for (const [view, target] of this.targets) {
          if (target.topics.some((prefix) => event.topic.startsWith(prefix))) this.refresh(view, 'event');
        }
      }),
      connection.onDidMissEvents(() => this.refreshAll('missedEvents')),
      connection.onDidChange((snapshot) => {
        const previous = this.lastConnection;
        this.lastConnection = snapshot;
        // A disconnected connection reports each failed retry (and a connecting one each step): only a new state, host or socket matters.
        if (previous.state !== snapshot.state || previous.host !== snapshot.host || previous.socket !== snapshot.socket) this.refreshAll('connection');
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        for (const [view, target] of this.targets) {
          if (target.settings.some((section) => e.affectsConfiguration(section))) this.refresh(view, 'settings');
        }
      }),
    );
  }

  /** Adds a view; the returned Disposable removes it (and any pending refresh). */
  register(view: string, target: RefreshTarget): vscode.Disposable {
    if (this.targets.has(view)) throw new Error(`view ${view} is already registered for refreshes`);
    this.targets.set(view, target);
    return new vscode.Disposable(() => {
      this.cancelPending(view);
      if (this.targets.get(view) === target) this.targets.delete(view);
    });
  }

  /** Refreshes `view`: now for 'manual', else once the debounce window closes. Unknown views are ignored. */
  refresh(view: string, reason: RefreshReason): void {
    if (this.disposed || !this.targets.has(view)) return;
    if (reason === 'manual') {
      this.cancelPending(view);
      this.fire(view, new Set([reason]));
      return;
    }
    const pending = this.timers.get(view);
    if (pending) {
      pending.reasons.add(reason);
      return;
    }
    const reasons = new Set<RefreshReason>([reason]);
    const timer = setTimeout(() => {
      this.timers.delete(view);
      this.fire(view, reasons);
    }, REFRESH_DEBOUNCE_MS);
    this.timers.set(view, { timer, reasons });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const view of [...this.timers.keys()]) this.cancelPending(view);
    this.targets.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  private refreshAll(reason: RefreshReason): void {
    for (const view of this.targets.keys()) this.refresh(view, reason);
  }

  private cancelPending(view: string): void {
    const pending = this.timers.get(view);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.timers.delete(view);
  }

  private fire(view: string, reasons: Set<RefreshReason>): void {
    const target = this.targets.get(view);
    if (!target) return;
    // The reason that matters most to a reader of the log comes first.
    const reason = (['manual', 'connection', 'missedEvents', 'settings', 'event'] as const).find((r) => reasons.has(r))!;
    this.log.trace(`refresh ${view} (${[...reasons].join(', ')})`);
    try {
      target.refresh(reason);
    } catch (e) {
      this.log.error(`refresh ${view} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
