/**
 * The raw "task exited" signal, fired by the exit watcher before the exit is
 * handled under the container's lock. An operation that holds the lock and
 * must wait for the task to end (stop, remove -f) registers with `next`
 * *before* signalling the task, so an exit that comes at once is not missed.
 *
 * An exit can also come *before* the operation took the lock: its handling
 * is then queued behind the operation. Such an exit stays `unhandled` until
 * its handler runs (`handled`), and `next` counts it as already happened —
 * otherwise `rm -f` of a task that just ended would wait for an exit that
 * will never come again.
 */
import { systemClock, type Clock, type Timer } from './serviceDeps';

export interface PendingExit {
  /** True when the task exited within `ms` (false on timeout or abort). */
  within(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export class ExitSignals {
  private readonly pending = new Map<string, Set<() => void>>();
  private readonly unhandled = new Set<string>();

  constructor(private readonly clock: Clock = systemClock) {}

  fire(id: string): void {
    this.unhandled.add(id);
    const listeners = this.pending.get(id);
    this.pending.delete(id);
    for (const resolve of listeners ?? []) resolve();
  }

  /** The exit fired for `id` has been handled under the lock: the next wait is for a new one. */
  handled(id: string): void {
    this.unhandled.delete(id);
  }

  next(id: string): PendingExit {
    let exited = this.unhandled.has(id);
    const listeners = new Set<() => void>();
    const done = new Promise<void>((resolve) => {
      const onExit = () => {
        exited = true;
        resolve();
      };
      let set = this.pending.get(id);
      if (!set) this.pending.set(id, (set = new Set()));
      set.add(onExit);
      listeners.add(onExit);
    });
    return {
      within: async (ms, signal) => {
        if (exited) return true;
        let timer: Timer | undefined;
        let onAbort: (() => void) | undefined;
        const expired = new Promise<void>((resolve) => {
          timer = this.clock.after(ms, resolve);
          onAbort = () => resolve();
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        await Promise.race([done, expired]);
        timer?.cancel();
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        return exited;
      },
    };
  }
}
