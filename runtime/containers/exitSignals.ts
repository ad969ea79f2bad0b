/**
 * The raw "task exited" signal, fired by the exit watcher before the exit is
 * handled under the container's lock. An operation that holds the lock and
 * must wait for the task to end (stop, remove -f) registers with `next`
 * *before* signalling the task, so an exit that comes at once is not missed.
 */
import { systemClock, type Clock, type Timer } from './serviceDeps';

export interface PendingExit {
  /** True when the task exited within `ms` (false on timeout or abort). */
  within(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export class ExitSignals {
  private readonly pending = new Map<string, Set<() => void>>();

  constructor(private readonly clock: Clock = systemClock) {}

  fire(id: string): void {
    const listeners = this.pending.get(id);
    this.pending.delete(id);
    for (const resolve of listeners ?? []) resolve();
  }

  next(id: string): PendingExit {
    let exited = false;
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
