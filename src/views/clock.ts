/**
 * The clock the views read relative times from ("Up 5 minutes", "3 hours
 * ago"). Injectable so a test can move time forward instead of waiting:
 * the system clock in the extension, a manual one in tests.
 */
import type * as vscode from 'vscode';

export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Calls `fn` once when this clock reaches `at` (at once if it has); disposing cancels it. */
  schedule(at: number, fn: () => void): vscode.Disposable;
}

/** Node caps a timer's delay at 2^31-1 ms (~24.8 days); a later time is reached in hops. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(at, fn) {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const delay = at - Date.now();
      timer = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(fn, Math.max(0, delay));
    };
    arm();
    return { dispose: () => clearTimeout(timer) };
  },
};

/**
 * The first time after `now` at which `text(time)` differs from `text(now)`,
 * or undefined if it does not within `horizonMs`. `text` must never return
 * to a value it left (true of "Up N minutes"-style texts, which only move
 * forward): then a probe that still reads the same proves nothing changed
 * before it, and a bisection between the last such probe and the first that
 * differs finds the exact millisecond. About 2·log2(horizon/1 s) calls.
 */
export function nextTextChange(text: (time: number) => string, now: number, horizonMs = 3 * 365 * 24 * 3_600_000): number | undefined {
  const current = text(now);
  let step = 1000;
  let same = now;
  while (text(now + step) === current) {
    same = now + step;
    if (step >= horizonMs) return undefined;
    step *= 2;
  }
  let differs = now + step;
  while (differs - same > 1) {
    const mid = Math.floor((same + differs) / 2);
    if (text(mid) === current) same = mid;
    else differs = mid;
  }
  return differs;
}
