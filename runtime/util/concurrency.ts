/** Small concurrency tools: bounded parallel work with fail-fast cancellation. */

/**
 * Runs `fn` over `items` with at most `limit` in flight. On the first failure
 * the shared signal aborts (so siblings stop early) and that failure is
 * thrown once everything started has settled — no work is left running
 * behind the caller's back.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !controller.signal.aborted) {
      const item = items[next++];
      try {
        await fn(item, controller.signal);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
  if (signal.aborted) throw signal.reason;
}

/**
 * Waits for every promise (undefined ones count as done), then throws the
 * first rejection: when the caller goes on to undo or report, none of the
 * work is still running.
 */
export async function settleAll(work: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const settled = await Promise.allSettled(work.map((w) => w ?? Promise.resolve()));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
