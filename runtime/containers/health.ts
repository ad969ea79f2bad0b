/**
 * Health checks, as Docker runs them: every `interval` after the task starts,
 * the probe command runs inside the container (an exec) with a `timeout`.
 * Exit 0 = healthy and the failing streak resets; anything else (or a
 * timeout) extends the streak, and `retries` consecutive failures make the
 * container unhealthy. Failures during `startPeriod` do not count until a
 * probe first succeeds. The last 5 results are kept for inspect.
 *
 * The monitor only schedules probes and computes the next health state; the
 * container service, which hands `watch` its recorder, records it (under
 * the container's lock) and publishes health_status events when the status
 * changes.
 */
import type { Logger } from '../util/log';
import type { Container, HealthcheckSpec, HealthProbeResult, HealthState } from './containers';
import type { ContainerHealth, HealthRecorder } from './serviceDeps';

export type { HealthRecorder };

export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 3;
const KEPT_RESULTS = 5;
const MAX_OUTPUT = 4096;

export interface ProbeOutcome {
  readonly exitCode: number;
  readonly output: string;
  readonly timedOut: boolean;
}

export type Probe = (container: Container, args: string[], timeoutMs: number, signal: AbortSignal) => Promise<ProbeOutcome>;

/** The effective check: the container's (fields left 0 inherit the image's), else the image's; undefined = none. */
export function effectiveHealthcheck(container: Container): HealthcheckSpec | undefined {
  const own = container.config.healthcheck;
  if (own && 'disabled' in own) return undefined;
  const image = container.imageConfig.Healthcheck;
  const ns = (v: number | undefined) => (v ? Math.round(v / 1e6) : 0);
  const test = own?.test.length ? own.test : (image?.Test ?? []);
  if (test.length === 0 || test[0] === 'NONE') return undefined;
  return {
    test,
    intervalMs: own?.intervalMs || ns(image?.Interval) || DEFAULT_INTERVAL_MS,
    timeoutMs: own?.timeoutMs || ns(image?.Timeout) || DEFAULT_TIMEOUT_MS,
    startPeriodMs: own?.startPeriodMs || ns(image?.StartPeriod) || 0,
    retries: own?.retries || image?.Retries || DEFAULT_RETRIES,
  };
}

/** argv of the probe: ["CMD", a, b] → [a, b]; ["CMD-SHELL", s] → [/bin/sh, -c, s]. */
export function probeArgs(test: readonly string[]): string[] {
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return [...test];
}

/** The health state after one probe. */
export function applyProbe(health: HealthState, check: HealthcheckSpec, result: HealthProbeResult, startedAt: string): HealthState {
  const log = [...health.log, result].slice(-KEPT_RESULTS);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const inStartPeriod = health.status === 'starting' && Date.parse(result.start) - Date.parse(startedAt) < check.startPeriodMs;
  if (inStartPeriod) return { ...health, log };
  const failingStreak = health.failingStreak + 1;
  const status = failingStreak >= check.retries ? 'unhealthy' : health.status;
  return { status, failingStreak, log };
}

export class HealthMonitor implements ContainerHealth {
  private readonly loops = new Map<string, AbortController>();

  constructor(
    private readonly probe: Probe,
    private readonly log: Logger,
  ) {}

  configOf(container: Container): HealthcheckSpec | undefined {
    return effectiveHealthcheck(container);
  }

  /** Starts probing a running container that has a check (no-op otherwise or when already probing); results go to `record`. */
  watch(container: Container, record: HealthRecorder): void {
    const check = effectiveHealthcheck(container);
    if (!check || this.loops.has(container.id)) return;
    const controller = new AbortController();
    this.loops.set(container.id, controller);
    void this.loop(container, check, record, controller.signal);
  }

  /** Paused containers are not probed; `watch` resumes. */
  suspend(id: string): void {
    this.stop(id);
  }

  stop(id: string): void {
    this.loops.get(id)?.abort();
    this.loops.delete(id);
  }

  close(): void {
    for (const id of [...this.loops.keys()]) this.stop(id);
  }

  private async loop(container: Container, check: HealthcheckSpec, record: HealthRecorder, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, check.intervalMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (signal.aborted) return;
      const start = new Date().toISOString();
      let outcome: ProbeOutcome;
      try {
        outcome = await this.probe(container, probeArgs(check.test), check.timeoutMs, signal);
      } catch (e) {
        if (signal.aborted) return;
        outcome = { exitCode: -1, output: e instanceof Error ? e.message : String(e), timedOut: false };
      }
      if (signal.aborted) return;
      const result: HealthProbeResult = {
        start,
        end: new Date().toISOString(),
        exitCode: outcome.timedOut ? -1 : outcome.exitCode,
        output: (outcome.timedOut ? `Health check exceeded timeout (${check.timeoutMs}ms)` : outcome.output).slice(0, MAX_OUTPUT),
      };
      try {
        await record(container.id, (state) => ({ health: applyProbe(state.health, check, result, state.startedAt) }));
      } catch (e) {
        this.log.warn('recording a health probe failed', { id: container.id, error: e });
      }
    }
  }
}
