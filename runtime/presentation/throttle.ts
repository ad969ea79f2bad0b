/**
 * At most one call per interval, and never a lost last call: progress
 * reporters call `run()` on every change; a call inside the interval is
 * deferred to its end (with whatever is current then), so when updates stop
 * the last state is still reported. `run(true)` reports at once. `cancel()`
 * drops a pending deferred call (when the work is over).
 */
export interface Throttle {
  run(force?: boolean): void;
  cancel(): void;
}

export function throttle(intervalMs: number, fn: () => void): Throttle {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    fn();
  };
  return {
    run(force = false) {
      const wait = intervalMs - (Date.now() - last);
      if (force || wait <= 0) fire();
      else timer ??= setTimeout(fire, wait);
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
