/**
 * Restart policies, as Docker applies them.
 *
 * - `no`: never. `always`: after every exit. `unless-stopped`: like always,
 *   but a container the user stopped stays down, also across daemon restarts
 *   (`always` containers are started again when the daemon starts).
 * - `on-failure[:N]`: after a non-zero exit, at most N times (0 = no limit).
 * - A container stopped by the user (stop, kill with its stop signal or
 *   SIGKILL, rm -f) is never restarted by its policy.
 * - Backoff: the first restart waits 100 ms, each next one twice the last;
 *   a run of 10 s or more resets the delay to 100 ms.
 */
import type { Container } from './containers';
import { systemClock, type Clock, type Timer } from './serviceDeps';

export const INITIAL_DELAY_MS = 100;
export const RESET_AFTER_MS = 10_000;
/** Docker caps the doubling at one minute. */
export const MAX_DELAY_MS = 60_000;

export function shouldRestart(container: Container, exitCode: number): boolean {
  if (container.state.stoppedByUser) return false;
  const policy = container.config.restartPolicy;
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (policy.maximumRetryCount === 0 || container.state.restartCount < policy.maximumRetryCount);
    default:
      return false;
  }
}

/** The delay before the next restart, given the previous one and how long the task ran. */
export function nextDelay(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= RESET_AFTER_MS) return INITIAL_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}

/** One timer per restarting container, plus the delay it used last. */
export class RestartScheduler {
  private readonly timers = new Map<string, Timer>();
  private readonly delays = new Map<string, number>();

  constructor(
    private readonly restart: (id: string) => Promise<void>,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Schedules the restart of an exited container; returns the delay used. */
  schedule(container: Container): number {
    const ranMs = Date.parse(container.state.finishedAt) - Date.parse(container.state.startedAt);
    const delay = nextDelay(this.delays.get(container.id), Number.isFinite(ranMs) ? ranMs : 0);
    this.delays.set(container.id, delay);
    this.cancel(container.id);
    const timer = this.clock.after(delay, () => {
      this.timers.delete(container.id);
      void this.restart(container.id);
    });
    this.timers.set(container.id, timer);
    return delay;
  }

  cancel(id: string): void {
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
  }

  /** A start by the user begins a new backoff sequence. */
  reset(id: string): void {
    this.delays.delete(id);
  }

  close(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
