/**
 * The one way a test waits: for a condition, never for a time.
 *
 * `waitFor(condition, {what})` re-checks `condition` until it returns a value
 * other than undefined, null or false, and resolves with that value. It
 * polls (every `intervalMs`), or re-checks when `wake` says something
 * happened (an event, a line of output), or both. It fails after `timeoutMs`
 * with a message naming what was awaited and the last state seen
 * (`describe()`, else the condition's last value). The timeout is a safety
 * net, never the thing waited for: a test whose condition cannot become true
 * fails with a clear message instead of hanging until mocha's limit.
 *
 * Waiting for something *not* to happen cannot be done by waiting: wait for
 * a later event that proves it instead (docs/testing.md, "Waiting in tests").
 *
 * `within(promise, {what, timeoutMs})` is the same safety net for a promise
 * the test already has. Both are the only timers in the tests, apart from
 * timeouts handed to the code under test.
 */
import { inspect } from 'node:util';

export interface WaitOptions {
  /** What is awaited, for the failure message ("the container running"). */
  readonly what: string;
  /** Give up after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** Re-check this often; default 25 ms, or only on `wake` when that is given. */
  readonly intervalMs?: number;
  /** The state to show on failure; default: the condition's last value (or error). */
  readonly describe?: () => unknown;
  /** Event-driven re-checks: subscribe `recheck` to whatever changes the state; returns the unsubscribe. */
  readonly wake?: (recheck: () => void) => () => void;
  /** Treat a throwing condition as "not yet" (e.g. connecting to a server that is still starting). */
  readonly ignoreErrors?: boolean;
}

export type Done<T> = Exclude<T, undefined | null | false>;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_INTERVAL_MS = 25;

export async function waitFor<T>(condition: () => T | Promise<T>, opts: WaitOptions): Promise<Done<T>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const interval = opts.intervalMs ?? (opts.wake ? undefined : DEFAULT_INTERVAL_MS);
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let woken = false;
  let wakeUp: (() => void) | undefined;
  const unsubscribe = opts.wake?.(() => {
    woken = true;
    wakeUp?.();
  });
  try {
    for (;;) {
      woken = false;
      try {
        const value = await condition();
        if (value !== undefined && value !== null && value !== false) return value as Done<T>;
        last = value;
      } catch (e) {
        if (!opts.ignoreErrors) throw e;
        last = e;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const shown = opts.describe ? opts.describe() : last;
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}; last seen: ${show(shown)}`);
      }
      if (woken) continue; // changed while the condition ran
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, interval ?? left));
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wakeUp = undefined;
    }
  } finally {
    unsubscribe?.();
  }
}

/** Resolves or rejects as `promise` does; rejects naming `what` if it has not settled after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, opts: { readonly what: string; readonly timeoutMs?: number }): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  return inspect(value, { depth: 4, breakLength: Infinity, maxStringLength: 2000 });
}
