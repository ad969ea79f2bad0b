// What the Images and Containers trees did, counted from the extension's
// test API (api.views.onDidActivity) rather than from product state: list
// and inspect calls, and why a view was last refreshed. Counting starts when
// the counter is made, so tests compare counts before and after.
import * as vscode from 'vscode';
import type { Envelope } from '../../../runtime/api/gen/gantry/v1/events';
import type { GantryApi } from '../../../src/extension';
import type { RefreshReason } from '../../../src/views/refreshManager';
import { waitFor } from '../../helpers/waitFor';

export const IMAGES_VIEW = 'gantry.images';
export const CONTAINERS_VIEW = 'gantry.containers';

export class ViewCalls implements vscode.Disposable {
  /** `list()` calls the view made. */
  listCalls = 0;
  /** `inspect()` calls (tooltips) the view made. */
  inspectCalls = 0;
  /** Why the view was last refreshed (undefined before the first refresh seen). */
  lastRefreshReason: RefreshReason | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(api: GantryApi, view: string) {
    this.subscription = api.views.onDidActivity((a) => {
      if (a.view !== view) return;
      if (a.kind === 'list') this.listCalls++;
      else if (a.kind === 'inspect') this.inspectCalls++;
      else if (a.kind === 'refresh') this.lastRefreshReason = a.reason;
    });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}

/**
 * Resolves with the first daemon event the extension receives from now on
 * that matches; call it before causing the event. Once it resolves, the
 * extension has handled the event (its RefreshManager listens on the same
 * emitter), so `api.views.idle()` covers the refresh it asked for.
 */
export function nextEvent(api: GantryApi, what: string, match: (e: Envelope) => boolean, timeoutMs = 30_000): Promise<Envelope> {
  let found: Envelope | undefined;
  const seen: string[] = [];
  const subscription = api.onDidReceiveEvent((e) => {
    seen.push(e.topic);
    if (!found && match(e)) found = e;
  });
  return waitFor(() => found, {
    what,
    timeoutMs,
    describe: () => `events received: ${JSON.stringify(seen.slice(-20))}`,
    wake: (recheck) => {
      const s = api.onDidReceiveEvent(() => recheck());
      return () => s.dispose();
    },
  }).finally(() => subscription.dispose());
}
