/**
 * `wait`: callers parked until a container reaches a condition. The service
 * calls `notify` after every state change it records (and after removal with
 * `undefined`); each waiter decides whether its condition now holds.
 *
 * Conditions (Docker's): `not-running` — not running, paused or restarting
 * (returns at once if that holds already); `next-exit` — the next time a run
 * ends (or the container is removed); `removed` — the record is gone.
 */
import type { Ctx } from '../context';
import type { Container } from './containers';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

type Waiter = (container: Container | undefined, id: string, died: boolean) => void;

/** A task exists: running or paused. */
export function isActive(container: Container): boolean {
  return container.state.status === 'running' || container.state.status === 'paused';
}

/** Up as `ps` counts it: active, or restarting. */
export function isUp(container: Container): boolean {
  return ['running', 'paused', 'restarting'].includes(container.state.status);
}

export class ContainerWaiters {
  private readonly waiters = new Set<Waiter>();

  /** Resolves with the exit code once `condition` holds for `current` (the container now; undefined = removed). */
  wait(ctx: Ctx, id: string, current: Container | undefined, condition: WaitCondition): Promise<number> {
    if (condition === 'not-running' && current && !isUp(current)) return Promise.resolve(current.state.exitCode);
    if (condition === 'removed' && !current) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      let lastCode = current?.state.exitCode ?? 0;
      const waiter: Waiter = (c, changed, died) => {
        if (changed !== id) return;
        if (c) lastCode = c.state.exitCode;
        const done = condition === 'removed' ? !c : condition === 'next-exit' ? died || !c : !c || !isUp(c);
        if (!done) return;
        finish();
        resolve(lastCode);
      };
      const onAbort = () => {
        finish();
        reject(ctx.signal.reason);
      };
      const finish = () => {
        this.waiters.delete(waiter);
        ctx.signal.removeEventListener('abort', onAbort);
      };
      this.waiters.add(waiter);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  notify(container: Container | undefined, id: string, died: boolean): void {
    for (const waiter of [...this.waiters]) waiter(container, id, died);
  }
}
