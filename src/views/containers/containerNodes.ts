/**
 * The nodes of the Containers view and how they are arranged. Everything
 * here is computed from one `containers.list(all)` result and a clock: no
 * node ever asks the daemon for anything (details come lazily, in the
 * tooltip or the inspect document). No VS Code imports: tree items are built
 * in containerTreeItems.ts, and the icon is named here as plain data.
 *
 * Order (`gantry.containers.sortBy`): by status (default: running
 * containers first, then paused and restarting ones, then created, exited and
 * dead ones; newest first in each group), by creation time (newest first), or
 * by name. The filter keeps the containers whose name, ID or image contains
 * its text.
 *
 * The description is "image · status" with the status rounded to minutes
 * ("Up Less than a minute", "Exited (3) 5 minutes ago"): a refresh caused by
 * another container's event then leaves this item's text as it was, so the
 * tree does not flicker, and the text changes once a minute at most (the
 * provider re-renders an item when it does: see clockTexts). The tooltip
 * uses the same rounding, with the exact times beside it.
 *
 * While one of the extension's own operations on a container is in flight
 * (stop, restart, remove: they take up to the stop timeout), its item says
 * so ("Stopping…", a spinning icon) and its contextValue is
 * `busy<Operation>Container`, which menus offer only Inspect and Logs for.
 */
import { type ContainerStatus, type ContainerSummary, type PortBinding } from '../../../runtime/client';
import {
  displayName,
  healthName,
  humanDuration,
  shortId,
  statusName,
  statusText,
  type ContainerStateName,
} from '../../../runtime/presentation';
import type { MessageNode } from '../viewFilter';
import type { ContainerFileNode, ContainerFilesNode } from './fileNodes';
import type { ContainerChangeNode, ContainerChangesNode } from './changeNodes';
import type { PodNode } from './podNodes';

export type ContainerState = ContainerStateName;
/** An operation of the extension's own, in flight on a container. */
export type ContainerOperation = 'stopping' | 'restarting' | 'removing';
export type ContainerSortBy = 'status' | 'created' | 'name';

/** Menus match these with `viewItem =~ /…/`; one per state, so a menu offers only what applies. */
export type ContainerContextValue =
  | 'runningContainer'
  | 'pausedContainer'
  | 'restartingContainer'
  | 'createdContainer'
  | 'exitedContainer'
  | 'deadContainer'
  | 'busyStoppingContainer'
  | 'busyRestartingContainer'
  | 'busyRemovingContainer'
  // A container of a Kubernetes pod (podNodes.ts): the kubelet owns its lifecycle.
  | 'runningPodContainer'
  | 'pausedPodContainer'
  | 'restartingPodContainer'
  | 'createdPodContainer'
  | 'exitedPodContainer'
  | 'deadPodContainer';

export interface ContainerNode {
  readonly kind: 'container';
  readonly container: ContainerSummary;
  /** Set while the extension stops, restarts or removes it. */
  readonly operation?: ContainerOperation;
}

/**
 * A published port of a running container: its child in the tree, offering
 * Open in Browser and Copy Address (contextValue `containerPort`).
 */
export interface ContainerPortNode {
  readonly kind: 'containerPort';
  readonly containerId: string;
  readonly containerName: string;
  readonly binding: PortBinding;
}

export type ContainersMessageNode = MessageNode<'containers'>;

export type ContainerTreeNode =
  | ContainerNode
  | ContainerPortNode
  | ContainerFilesNode
  | ContainerFileNode
  | ContainerChangesNode
  | ContainerChangeNode
  | PodNode
  | ContainersMessageNode;

/** A codicon id and the theme colour to draw it in (undefined: the default foreground). */
export interface IconSpec {
  readonly id: string;
  readonly color?: string;
}

export function isContainerNode(value: unknown): value is ContainerNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'container' &&
    typeof (value as ContainerNode).container?.id === 'string'
  );
}

export function isContainerPortNode(value: unknown): value is ContainerPortNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'containerPort' &&
    typeof (value as ContainerPortNode).binding?.hostPort === 'number'
  );
}

/** The published ports a container's item shows as children: while it runs (a stopped container has none reserved), by container port. */
export function portNodes(container: ContainerSummary): ContainerPortNode[] {
  if (containerState(container.status) !== 'running') return [];
  return [...container.ports]
    .sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || a.hostIp.localeCompare(b.hostIp))
    .map((binding) => ({ kind: 'containerPort', containerId: container.id, containerName: container.name, binding }));
}

/** The state's word; an unknown status from a newer daemon reads 'created', so menus offer only what is safe for any container. */
export function containerState(status: ContainerStatus): ContainerState {
  const name = statusName(status);
  return name === 'unknown' ? 'created' : name;
}

export function contextValueOf(container: ContainerSummary, operation?: ContainerOperation): ContainerContextValue {
  if (operation) return `busy${operation[0].toUpperCase()}${operation.slice(1)}Container` as ContainerContextValue;
  return `${containerState(container.status)}${container.cri ? 'Pod' : ''}Container`;
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

export interface ArrangeOptions {
  readonly sortBy?: ContainerSortBy;
  /** Case-insensitive text the name, ID or image must contain ('' keeps all). */
  readonly filter?: string;
  /** The operation in flight on a container, by the ID or name it was started with. */
  readonly operationOf?: (container: ContainerSummary) => ContainerOperation | undefined;
}

/** The view's roots, sorted and filtered; ties by name. */
export function arrangeContainers(containers: readonly ContainerSummary[], options: ArrangeOptions = {}): ContainerNode[] {
  const filter = (options.filter ?? '').trim().toLowerCase();
  const newest = (a: ContainerSummary, b: ContainerSummary) => time(b.createdAt) - time(a.createdAt);
  const byName = (a: ContainerSummary, b: ContainerSummary) => a.name.localeCompare(b.name);
  const compare =
    {
      status: (a: ContainerSummary, b: ContainerSummary) =>
        stateGroup(containerState(a.status)) - stateGroup(containerState(b.status)) || newest(a, b) || byName(a, b),
      created: (a: ContainerSummary, b: ContainerSummary) => newest(a, b) || byName(a, b),
      name: (a: ContainerSummary, b: ContainerSummary) => byName(a, b) || newest(a, b),
    }[options.sortBy ?? 'status'] ?? ((a: ContainerSummary, b: ContainerSummary) => byName(a, b));
  return containers
    .filter((c) => !filter || [c.name, c.id, imageDisplay(c)].some((text) => text.toLowerCase().includes(filter)))
    .sort(compare)
    .map((container) => {
      const operation = options.operationOf?.(container);
      return operation ? { kind: 'container', container, operation } : { kind: 'container', container };
    });
}

/** The tree id: a new (daemon) state is a new item, so VS Code re-renders its icon and menus. */
export function containerTreeId(container: ContainerSummary): string {
  return `container:${container.id}:${containerState(container.status)}`;
}

/** The image as Docker's `ps` shows it: familiar name ("busybox:latest"), or a short ID when run by ID. */
export function imageDisplay(container: ContainerSummary): string {
  const image = container.image || container.imageName;
  if (/^(sha256:)?[0-9a-f]{64}$/.test(image)) return shortId(image);
  return displayName(image);
}

/**
 * Did the container fail: an OOM kill, a start that failed, or a non-zero
 * exit the user did not cause. As Docker: a container stopped by the user
 * ends with its stop signal's code (143 for SIGTERM, 137 once the stop
 * timeout sent SIGKILL, or 0 when it traps the signal), and that is not a
 * failure.
 */
export function failed(container: ContainerSummary): boolean {
  return container.oomKilled || container.error !== '' || (container.exitCode !== 0 && !container.stoppedByUser);
}

/**
 * Docker's `ps` status (statusText, as the CLI words it), with durations
 * under a minute said as "Less than a minute" so the text only changes when
 * the minute does: "Up Less than a minute", "Up 5 minutes (healthy)", "Up 2
 * hours (Paused)", "Restarting (1) 3 minutes ago", "Exited (0) About an
 * hour ago", "Created", "Dead".
 */
export function coarseStatus(container: ContainerSummary, now: number): string {
  return statusText(container, now, roughly);
}

/** "busybox:latest · Up 5 minutes"; "busybox:latest · Stopping…" while the extension stops it. */
export function containerDescription(container: ContainerSummary, now: number, operation?: ContainerOperation): string {
  return `${imageDisplay(container)} · ${operation ? OPERATION_TEXT[operation] : coarseStatus(container, now)}`;
}

const OPERATION_TEXT: Record<ContainerOperation, string> = { stopping: 'Stopping…', restarting: 'Restarting…', removing: 'Removing…' };

/** "5 minutes ago", rounded as coarseStatus rounds. */
export function roughlyAgo(at: Date, now: number): string {
  return `${roughly(Math.max(0, now - at.getTime()))} ago`;
}

/**
 * Every text of a container's item that depends on the clock, joined: the
 * description and the tooltip's times. When it changes, the item must be
 * rendered again (the provider's RelativeTimeTicker does that).
 */
export function clockTexts(container: ContainerSummary, now: number): string {
  const times = [container.createdAt, container.startedAt, container.finishedAt].map((at) => (at ? roughlyAgo(at, now) : ''));
  return [coarseStatus(container, now), ...times].join('|');
}

/**
 * The icon: an operation in flight spins; health wins while running (it says
 * more than "running"), then the state; an exited container that failed gets
 * an error icon (one the user stopped does not: see failed()).
 */
export function containerIcon(container: ContainerSummary, operation?: ContainerOperation): IconSpec {
  if (operation) return { id: 'loading~spin', color: 'charts.orange' };
  const state = containerState(container.status);
  if (state === 'running') {
    switch (healthName(container.health)) {
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

/** Docker's humanDuration without the seconds. */
function roughly(ms: number): string {
  return ms < 60_000 ? 'Less than a minute' : humanDuration(ms);
}

function time(at: Date | undefined): number {
  return at ? at.getTime() : 0;
}
