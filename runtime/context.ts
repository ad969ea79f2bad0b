/**
 * Request scope passed first to every async operation in the daemon, as
 * containerd passes context.Context: cancellation travels in `signal`.
 * Cleanup after a cancellation must not reuse an aborted signal; use
 * `cleanupSignal()` for it.
 */
export interface Ctx {
  readonly signal: AbortSignal;
}

export function background(): Ctx {
  return { signal: new AbortController().signal };
}

/** A fresh, bounded signal for cleanup work that must run even after the request was cancelled. */
export function cleanupSignal(timeoutMs = 10_000): AbortSignal {
  return AbortSignal.timeout(timeoutMs);
}
