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
 *
 * For tests (through the extension's API, docs/testing.md): `idle()` says
 * when no refresh is pending or running, and a ViewObserver is told of each
 * refresh, list and inspect the views make. Nothing in the product reads them.
 */
import * as vscode from 'vscode';
import type { ConnectionSnapshot, RuntimeConnection } from '../client/connection';

export type RefreshReason = 'manual' | 'event' | 'missedEvents' | 'connection' | 'settings';

/** What a view hands the manager: its provider's refresh, and what makes it stale. */
export interface RefreshTarget {
  /** Marks the view stale and fires its change event. */
  refresh(reason: RefreshReason): void;
  /** Resolves once the view's own work for the last refresh (a list call in flight) is done. */
  idle?(): Promise<void>;
  /** Daemon event topic prefixes that concern the view, e.g. ["/images/"]. */
  readonly topics: readonly string[];
  /** Settings sections that change what the view shows, e.g. ["gantry.images"]. */
  readonly settings: readonly string[];
}

/** What a view did: what the test API reports to tests that count daemon calls. */
export type ViewActivity =
  | { readonly view: string; readonly kind: 'refresh'; readonly reason: RefreshReason }
  | { readonly view: string; readonly kind: 'list' | 'inspect' };

/** Told of each ViewActivity; a no-op unless a test listens. */
export type ViewObserver = (activity: ViewActivity) => void;

export const REFRESH_DEBOUNCE_MS = 500;

export class RefreshManager implements vscode.Disposable {
  private readonly targets = new Map<string, RefreshTarget>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; reasons: Set<RefreshReason> }>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private lastConnection: ConnectionSnapshot;
  private disposed = false;

  constructor(
    connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    private readonly observe: ViewObserver = () => undefined,
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
        if (previous.state !== snapshot.state || previous.host !== snapshot.host || previous.socket !== snapshot.socket)
          this.refreshAll('connection');
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
      this.wakeIdle();
    }, REFRESH_DEBOUNCE_MS);
    this.timers.set(view, { timer, reasons });
  }

  /**
   * Resolves once no refresh is pending (no debounce window open) and the
   * views have finished what the last ones started. For tests: "after the
   * debounce" without a clock.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.timers.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await Promise.all([...this.targets.values()].map((t) => t.idle?.() ?? Promise.resolve()));
      if (this.timers.size === 0) return;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const view of [...this.timers.keys()]) this.cancelPending(view);
    this.targets.clear();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.wakeIdle();
  }

  private refreshAll(reason: RefreshReason): void {
    for (const view of this.targets.keys()) this.refresh(view, reason);
  }

  private cancelPending(view: string): void {
    const pending = this.timers.get(view);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.timers.delete(view);
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.timers.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private fire(view: string, reasons: Set<RefreshReason>): void {
    const target = this.targets.get(view);
    if (!target) return;
    // The reason that matters most to a reader of the log comes first.
    const reason = (['manual', 'connection', 'missedEvents', 'settings', 'event'] as const).find((r) => reasons.has(r))!;
    this.log.trace(`refresh ${view} (${[...reasons].join(', ')})`);
    this.observe({ view, kind: 'refresh', reason });
    try {
      target.refresh(reason);
    } catch (e) {
      this.log.error(`refresh ${view} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
