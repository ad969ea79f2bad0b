/**
 * How a container's state reads to a person, as `docker ps` words it:
 * "Up 5 minutes (healthy)", "Exited (3) 2 minutes ago", "Created". Shared by
 * the CLI (`gantry ps`) and the extension's Containers view so both say the
 * same thing; pure functions of a list record and "now", no I/O.
 *
 * Durations follow Docker's go-units HumanDuration (truncating seconds and
 * minutes, rounding hours), which differs slightly from humanize.ts's
 * formatDuration: `ps` output is compared with Docker's by users.
 */
import { ContainerStatus, HealthStatus, type ContainerSummary } from '../api/gen/gantry/v1/containers';

/** A container state in Docker's API words. */
export type ContainerStateName = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';
export type HealthName = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** Docker's units.HumanDuration: "Less than a second", "1 second", "About a minute", "3 hours", "2 weeks" … */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/**
 * The lowercase names Docker's API uses ("running", "exited" …); also what
 * `--filter status=` takes. 'unknown' for a status a newer daemon added.
 */
export function statusName(status: ContainerStatus): ContainerStateName | 'unknown' {
  switch (status) {
    case ContainerStatus.CONTAINER_STATUS_CREATED:
      return 'created';
    case ContainerStatus.CONTAINER_STATUS_RUNNING:
      return 'running';
    case ContainerStatus.CONTAINER_STATUS_PAUSED:
      return 'paused';
    case ContainerStatus.CONTAINER_STATUS_RESTARTING:
      return 'restarting';
    case ContainerStatus.CONTAINER_STATUS_EXITED:
      return 'exited';
    case ContainerStatus.CONTAINER_STATUS_DEAD:
      return 'dead';
    default:
      return 'unknown';
  }
}

/** "none", "starting", "healthy", "unhealthy". */
export function healthName(health: HealthStatus): HealthName {
  switch (health) {
    case HealthStatus.HEALTH_STATUS_STARTING:
      return 'starting';
    case HealthStatus.HEALTH_STATUS_HEALTHY:
      return 'healthy';
    case HealthStatus.HEALTH_STATUS_UNHEALTHY:
      return 'unhealthy';
    default:
      return 'none';
  }
}

type StatusFields = Pick<ContainerSummary, 'status' | 'exitCode' | 'startedAt' | 'finishedAt' | 'health'>;

/**
 * The STATUS column of `docker ps` (Docker's State.String()):
 * "Up 5 minutes", "Up 5 minutes (healthy)", "Up 3 seconds (health: starting)",
 * "Up 5 minutes (Paused)", "Restarting (1) 3 seconds ago",
 * "Exited (3) 2 minutes ago", "Created", "Dead". `duration` words the
 * times (the Containers view rounds them to minutes so its items do not
 * change every second).
 */
export function statusText(c: StatusFields, now: number = Date.now(), duration: (ms: number) => string = humanDuration): string {
  const since = (time: Date | undefined, now: number) => duration(time ? Math.max(0, now - time.getTime()) : 0);
  switch (c.status) {
    case ContainerStatus.CONTAINER_STATUS_RUNNING: {
      const up = `Up ${since(c.startedAt, now)}`;
      switch (c.health) {
        case HealthStatus.HEALTH_STATUS_STARTING:
          return `${up} (health: starting)`;
        case HealthStatus.HEALTH_STATUS_HEALTHY:
          return `${up} (healthy)`;
        case HealthStatus.HEALTH_STATUS_UNHEALTHY:
          return `${up} (unhealthy)`;
        default:
          return up;
      }
    }
    case ContainerStatus.CONTAINER_STATUS_PAUSED:
      return `Up ${since(c.startedAt, now)} (Paused)`;
    case ContainerStatus.CONTAINER_STATUS_RESTARTING:
      return `Restarting (${c.exitCode}) ${since(c.finishedAt, now)} ago`;
    case ContainerStatus.CONTAINER_STATUS_DEAD:
      return 'Dead';
    case ContainerStatus.CONTAINER_STATUS_EXITED:
      // Docker: a container that never started reads "Created" even once "exited" (e.g. a failed start).
      if (!c.startedAt) return 'Created';
      return `Exited (${c.exitCode}) ${since(c.finishedAt, now)} ago`;
    default:
      return 'Created';
  }
}
