/**
 * The nodes of the Containers view and how they are arranged. Everything
 * here is computed from one `containers.list(all)` result and a clock: no
 * node ever asks the daemon for anything (details come lazily, in the
 * tooltip or the inspect document). No VS Code imports: tree items are built
 * in containerTreeItems.ts, and the icon is named here as plain data.
 *
 * Order: running containers first, then paused and restarting ones, then
 * created, exited and dead ones; newest (by creation) first in each group.
 *
 * The description is "image · status" with the status rounded to minutes
 * ("Up Less than a minute", "Exited (3) 5 minutes ago"): a refresh caused by
 * another container's event then leaves this item's text as it was, so the
 * tree does not flicker. The exact status is in the tooltip.
 */
import { ContainerStatus, HealthStatus, type ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import { displayName } from '../../../runtime/distribution/reference';
import { humanDuration } from '../../../runtime/containers/status';

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';
export type ContainerHealth = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** Menus match these with `viewItem =~ /…/`; one per state, so a menu offers only what applies. */
export type ContainerContextValue =
  | 'runningContainer'
  | 'pausedContainer'
  | 'restartingContainer'
  | 'createdContainer'
  | 'exitedContainer'
  | 'deadContainer';

export interface ContainerNode {
  readonly kind: 'container';
  readonly container: ContainerSummary;
}

export interface ContainersMessageNode {
  readonly kind: 'message';
  readonly id: string;
  readonly contextValue: 'containersError' | 'containersRetry';
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: string;
}

export type ContainerTreeNode = ContainerNode | ContainersMessageNode;

/** A codicon id and the theme colour to draw it in (undefined: the default foreground). */
export interface IconSpec {
  readonly id: string;
  readonly color?: string;
}

export function isContainerNode(value: unknown): value is ContainerNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'container'
    && typeof (value as ContainerNode).container?.id === 'string';
}

export function containerState(status: ContainerStatus): ContainerState {
  switch (status) {
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
    case ContainerStatus.CONTAINER_STATUS_CREATED:
    default:
      // An unknown status from a newer daemon: offer only what is safe for any container.
      return 'created';
  }
}

export function containerHealth(health: HealthStatus): ContainerHealth {
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

export function contextValueOf(container: ContainerSummary): ContainerContextValue {
  return `${containerState(container.status)}Container`;
}

/** 0: running, 1: paused or restarting, 2: created, exited or dead. */
export function stateGroup(state: ContainerState): number {
  switch (state) {
    case 'running':
      return 0;
    case 'paused':
    case 'restarting':
      return 1;
    default:
      return 2;
  }
}

/** The view's roots: grouped by state, newest first in each group, ties by name. */
export function arrangeContainers(containers: readonly ContainerSummary[]): ContainerNode[] {
  return [...containers]
    .sort((a, b) =>
      stateGroup(containerState(a.status)) - stateGroup(containerState(b.status))
      || time(b.createdAt) - time(a.createdAt)
      || a.name.localeCompare(b.name))
    .map((container) => ({ kind: 'container', container }));
}

/** The tree id: a new state is a new item, so VS Code re-renders its icon and menus. */
export function containerTreeId(container: ContainerSummary): string {
  return `container:${container.id}:${containerState(container.status)}`;
}

/** The first 12 hex digits, as Docker shortens IDs. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** The image as Docker's `ps` shows it: familiar name ("busybox:latest"), or a short ID when run by ID. */
export function imageDisplay(container: ContainerSummary): string {
  const image = container.image || container.imageName;
  if (/^(sha256:)?[0-9a-f]{64}$/.test(image)) return shortId(image);
  return displayName(image);
}

/** Did the container fail: a non-zero exit, an OOM kill, or a start that failed. */
export function failed(container: ContainerSummary): boolean {
  return container.exitCode !== 0 || container.oomKilled || container.error !== '';
}

/**
 * Docker's `ps` status (runtime/containers/status.ts words it for the CLI and
 * the tooltip), with durations under a minute said as "Less than a minute"
 * so the text only changes when the minute does: "Up Less than a minute",
 * "Up 5 minutes (healthy)", "Up 2 hours (Paused)", "Restarting (1) 3 minutes
 * ago", "Exited (0) About an hour ago", "Created", "Dead".
 */
export function coarseStatus(container: ContainerSummary, now: number): string {
  const since = (at: Date | undefined) => roughly(at ? Math.max(0, now - at.getTime()) : 0);
  switch (containerState(container.status)) {
    case 'running':
      return `Up ${since(container.startedAt)}${healthSuffix(containerHealth(container.health))}`;
    case 'paused':
      return `Up ${since(container.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${container.exitCode}) ${since(container.finishedAt)} ago`;
    case 'exited':
      // As Docker (and statusText): a container that never started reads "Created".
      return container.startedAt ? `Exited (${container.exitCode}) ${since(container.finishedAt)} ago` : 'Created';
    case 'dead':
      return 'Dead';
    case 'created':
      return 'Created';
  }
}

/** "busybox:latest · Up 5 minutes". */
export function containerDescription(container: ContainerSummary, now: number): string {
  return `${imageDisplay(container)} · ${coarseStatus(container, now)}`;
}

/**
 * The icon: health wins while running (it says more than "running"), then
 * the state; an exited container that failed gets an error icon.
 */
export function containerIcon(container: ContainerSummary): IconSpec {
  const state = containerState(container.status);
  if (state === 'running') {
    switch (containerHealth(container.health)) {
      case 'starting':
        return { id: 'pulse', color: 'charts.yellow' };
      case 'healthy':
        return { id: 'pass', color: 'testing.iconPassed' };
      case 'unhealthy':
        return { id: 'warning', color: 'list.warningForeground' };
      case 'none':
        return { id: 'vm-running', color: 'testing.iconPassed' };
    }
  }
  switch (state) {
    case 'paused':
      return { id: 'debug-pause', color: 'charts.yellow' };
    case 'restarting':
      return { id: 'sync~spin', color: 'charts.orange' };
    case 'created':
      return { id: 'circle-outline' };
    case 'dead':
      return { id: 'error', color: 'problemsErrorIcon.foreground' };
    case 'exited':
    default:
      return failed(container) ? { id: 'error', color: 'problemsErrorIcon.foreground' } : { id: 'circle-slash' };
  }
}

function healthSuffix(health: ContainerHealth): string {
  switch (health) {
    case 'starting':
      return ' (health: starting)';
    case 'healthy':
      return ' (healthy)';
    case 'unhealthy':
      return ' (unhealthy)';
    case 'none':
      return '';
  }
}

/** Docker's humanDuration without the seconds. */
function roughly(ms: number): string {
  return ms < 60_000 ? 'Less than a minute' : humanDuration(ms);
}

function time(at: Date | undefined): number {
  return at ? at.getTime() : 0;
}
