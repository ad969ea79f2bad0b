/**
 * The container state machine: for each state (the record's status) and
 * each event (a verb, or something the daemon saw), the next state and the
 * action the service runs, or a refusal that names both states. The service
 * consults `transition` for every verb before it changes anything.
 *
 *   create ─► created ──start──► running ◄─unpause─ paused
 *                ▲                  │ └──pause──────► │
 *                │                  ▼ exit            │ (stop/kill: thawed, then signalled)
 *                │   ┌──────── exited ◄───────────────┘
 *                │   │  policy says restart: restarting ──(backoff)──► running
 *                └───┴── start (by the user) ──► running
 *   remove: from created/exited (or any, with force) ─► gone
 *   a removal that fails half-way (task gone, bundle or snapshot not) ─► dead;
 *   from dead only a removal (rm, rm -f, prune) goes on, to gone
 *
 * `next` is the state the container is in when the verb returns. stop
 * signals the task and waits for it to end; the record gets to `exited`
 * through the `exit` event that causes, handled under the same lock once
 * stop lets go of it (remove -f records that exit itself). kill does not
 * wait: its `next` is `running`, and the exit a signal may cause comes later
 * as an `exit` event. Events the daemon sees (exit,
 * policy-restart, health) can arrive stale — the container moved on while
 * they were queued — and are then ignored (`next` = `from`, action `none`).
 *
 * Refusals: FailedPrecondition, or Conflict where Docker answers Conflict
 * (remove of a running container); NotFound from `gone`. Their texts keep
 * Docker's words where Docker has them, and the ones clients and tests rely
 * on ("is not running", "is already paused", "is not paused", "stop the
 * container before removing or force remove"), and end with both states:
 * "container web is not running: cannot pause it (from exited to paused)",
 * or "(it is exited)" when the two are the same (kill of an exited one).
 *
 * `dead` is Docker's: the task is gone but a removal failed half-way (the
 * rootfs would not unmount, the snapshot would not go). Nothing may start
 * it; `rm` (forced or not, as in Docker) and prune try the removal again,
 * and a removal that fails again leaves it dead.
 */
import { conflict, failedPrecondition, notFound } from '../errdefs/errdefs';
import type { ContainerStatus } from './containers';

/** The record's status, or `gone`: no record (before create, after remove). */
export type ContainerPhase = ContainerStatus | 'gone';

export const PHASES: readonly ContainerPhase[] = ['gone', 'created', 'running', 'paused', 'restarting', 'exited', 'dead'];

export type ContainerEvent =
  | 'create'
  | 'start'
  | 'stop'
  | 'kill'
  | 'pause'
  | 'unpause'
  | 'restart'
  /** The task ended and the restart policy leaves the container down. */
  | 'exit'
  /** The task ended and the restart policy brings it back after a backoff. */
  | 'exit-restart'
  /** The backoff timer of a restarting container fired. */
  | 'policy-restart'
  | 'remove'
  | 'remove-force'
  | 'prune'
  /** Removing the task's leftovers (bundle, snapshot, record) failed after the task was gone. */
  | 'remove-failed'
  /** A health probe result. Health never changes the status (Docker does not restart unhealthy containers). */
  | 'health'
  /** Recovery at daemon start found the task running (or paused) under its monitor, or an exit to handle. */
  | 'adopt'
  | 'adopt-paused'
  /** Daemon start, for a container whose task is not there: its restart policy may bring it back. */
  | 'daemon-start';

export const EVENTS: readonly ContainerEvent[] = [
  'create',
  'start',
  'stop',
  'kill',
  'pause',
  'unpause',
  'restart',
  'exit',
  'exit-restart',
  'policy-restart',
  'remove',
  'remove-force',
  'prune',
  'remove-failed',
  'health',
  'adopt',
  'adopt-paused',
  'daemon-start',
];

export type ContainerAction =
  /** Nothing to do: the verb is a no-op here, or a stale daemon event. */
  | 'none'
  /** Record, snapshot and bundle made. */
  | 'create'
  /** Launch the task (bundle, conmon, runc create + start). */
  | 'launch'
  /** Cancel a pending restart, then launch (a start by the user while restarting). */
  | 'cancel-restart-and-launch'
  /** Signal the stop signal, SIGKILL after the timeout, wait for the exit. */
  | 'terminate'
  /** Thaw, then terminate. */
  | 'thaw-and-terminate'
  /** Cancel the pending restart: the container stays exited. */
  | 'cancel-restart'
  | 'signal'
  | 'thaw-and-signal'
  | 'freeze'
  | 'thaw'
  /** stop, then start. */
  | 'stop-and-start'
  /** Record the exit code and tear the task down (and remove with --rm). */
  | 'record-exit'
  /** Record the exit code, tear the task down, schedule the restart. */
  | 'record-exit-and-schedule'
  /** Launch again, counted as a restart by the policy. */
  | 'relaunch'
  /** Remove bundle, snapshot and record. */
  | 'destroy'
  /** SIGKILL the task, wait for its exit, then destroy. */
  | 'kill-and-destroy'
  /** Cancel the pending restart, then destroy. */
  | 'cancel-restart-and-destroy'
  | 'mark-dead'
  | 'record-health'
  | 'adopt'
  /** Schedule the restart again (the timer died with the previous daemon). */
  | 'schedule-restart'
  /** Start if the policy says so at daemon start (always; unless-stopped not stopped by the user). */
  | 'start-by-policy';

export interface Transition {
  readonly from: ContainerPhase;
  readonly event: ContainerEvent;
  readonly next: ContainerPhase;
  readonly action: ContainerAction;
}

/** A refusal: the error kind and Docker's words; `transition` adds "(from <state> to <state>)". */
interface Refusal {
  readonly kind: 'not-found' | 'failed-precondition' | 'conflict';
  readonly text: (name: string, from: ContainerPhase) => string;
}

type Cell = { readonly next: ContainerPhase; readonly action: ContainerAction } | Refusal;

const ignore = (from: ContainerPhase): Cell => ({ next: from, action: 'none' });
const to = (next: ContainerPhase, action: ContainerAction): Cell => ({ next, action });
const precondition = (text: Refusal['text']): Refusal => ({ kind: 'failed-precondition', text });

/** Where each event would take the container: the second state a refusal names. */
export const TARGET: Readonly<Record<ContainerEvent, ContainerPhase>> = {
  create: 'created',
  start: 'running',
  stop: 'exited',
  kill: 'exited',
  pause: 'paused',
  unpause: 'running',
  restart: 'running',
  exit: 'exited',
  'exit-restart': 'restarting',
  'policy-restart': 'running',
  remove: 'gone',
  'remove-force': 'gone',
  prune: 'gone',
  'remove-failed': 'dead',
  health: 'running',
  adopt: 'running',
  'adopt-paused': 'paused',
  'daemon-start': 'running',
};

// --- refusals, in Docker's words where Docker has them ---

const noSuchContainer: Refusal = { kind: 'not-found', text: (name) => `no such container: ${name}` };
const alreadyExists = precondition((name, from) => `container ${name} already exists: it is ${from}`);
const notRunning = (verb: string) => precondition((name) => `container ${name} is not running: cannot ${verb} it`);
const restarting = (verb: string) =>
  precondition((name) => `container ${name} is restarting, wait until the container is running: cannot ${verb} it`);
const alreadyPaused = precondition((name) => `container ${name} is already paused`);
const notPaused = precondition((name) => `container ${name} is not paused: cannot unpause it`);
const startPaused = precondition((name) => `cannot start container ${name}: it is paused; unpause it instead`);
const markedForRemoval = (verb: string) =>
  precondition((name) => `cannot ${verb} container ${name}: it is dead (a removal failed half-way); force remove it (rm -f)`);
const removeActive: Refusal = {
  kind: 'conflict',
  text: (name, from) => `cannot remove container "/${name}": container is ${from}: stop the container before removing or force remove`,
};
const pruneActive: Refusal = {
  kind: 'conflict',
  text: (name, from) => `cannot prune container ${name}: it is ${from}; prune removes only containers that are not running`,
};
const notAfterRemoval = precondition((name, from) => `container ${name} cannot be marked dead: it is ${from}, and its task may still run`);

/** Every state × every event. `gone` refuses all but `create`; `create` is refused for any existing record. */
const TABLE: Readonly<Record<ContainerPhase, Readonly<Record<ContainerEvent, Cell>>>> = {
  gone: {
    create: to('created', 'create'),
    start: noSuchContainer,
    stop: noSuchContainer,
    kill: noSuchContainer,
    pause: noSuchContainer,
    unpause: noSuchContainer,
    restart: noSuchContainer,
    exit: ignore('gone'),
    'exit-restart': ignore('gone'),
    'policy-restart': ignore('gone'),
    remove: noSuchContainer,
    'remove-force': noSuchContainer,
    prune: noSuchContainer,
    'remove-failed': noSuchContainer,
    health: ignore('gone'),
    adopt: noSuchContainer,
    'adopt-paused': noSuchContainer,
    'daemon-start': ignore('gone'),
  },
  created: {
    create: alreadyExists,
    start: to('running', 'launch'),
    stop: ignore('created'),
    kill: notRunning('kill'),
    pause: notRunning('pause'),
    unpause: notPaused,
    restart: to('running', 'stop-and-start'),
    exit: ignore('created'),
    'exit-restart': ignore('created'),
    'policy-restart': ignore('created'),
    remove: to('gone', 'destroy'),
    'remove-force': to('gone', 'destroy'),
    prune: to('gone', 'destroy'),
    'remove-failed': to('dead', 'mark-dead'),
    health: ignore('created'),
    adopt: to('running', 'adopt'),
    'adopt-paused': to('paused', 'adopt'),
    'daemon-start': ignore('created'),
  },
  running: {
    create: alreadyExists,
    start: ignore('running'),
    stop: to('exited', 'terminate'),
    kill: to('running', 'signal'),
    pause: to('paused', 'freeze'),
    unpause: notPaused,
    restart: to('running', 'stop-and-start'),
    exit: to('exited', 'record-exit'),
    'exit-restart': to('restarting', 'record-exit-and-schedule'),
    'policy-restart': ignore('running'),
    remove: removeActive,
    'remove-force': to('gone', 'kill-and-destroy'),
    prune: pruneActive,
    'remove-failed': notAfterRemoval,
    health: to('running', 'record-health'),
    adopt: to('running', 'adopt'),
    'adopt-paused': to('paused', 'adopt'),
    'daemon-start': ignore('running'),
  },
  paused: {
    create: alreadyExists,
    start: startPaused,
    stop: to('exited', 'thaw-and-terminate'),
    kill: to('running', 'thaw-and-signal'),
    pause: alreadyPaused,
    unpause: to('running', 'thaw'),
    restart: to('running', 'stop-and-start'),
    exit: to('exited', 'record-exit'),
    'exit-restart': to('restarting', 'record-exit-and-schedule'),
    'policy-restart': ignore('paused'),
    remove: removeActive,
    'remove-force': to('gone', 'kill-and-destroy'),
    prune: pruneActive,
    'remove-failed': notAfterRemoval,
    health: ignore('paused'),
    adopt: to('running', 'adopt'),
    'adopt-paused': to('paused', 'adopt'),
    'daemon-start': ignore('paused'),
  },
  restarting: {
    create: alreadyExists,
    start: to('running', 'cancel-restart-and-launch'),
    stop: to('exited', 'cancel-restart'),
    kill: notRunning('kill'),
    pause: restarting('pause'),
    unpause: notPaused,
    restart: to('running', 'stop-and-start'),
    exit: ignore('restarting'),
    'exit-restart': ignore('restarting'),
    'policy-restart': to('running', 'relaunch'),
    remove: removeActive,
    'remove-force': to('gone', 'cancel-restart-and-destroy'),
    prune: pruneActive,
    'remove-failed': to('dead', 'mark-dead'),
    health: ignore('restarting'),
    adopt: to('running', 'adopt'),
    'adopt-paused': to('paused', 'adopt'),
    'daemon-start': to('restarting', 'schedule-restart'),
  },
  exited: {
    create: alreadyExists,
    start: to('running', 'launch'),
    stop: ignore('exited'),
    kill: notRunning('kill'),
    pause: notRunning('pause'),
    unpause: notPaused,
    restart: to('running', 'stop-and-start'),
    exit: ignore('exited'),
    'exit-restart': ignore('exited'),
    'policy-restart': ignore('exited'),
    remove: to('gone', 'destroy'),
    'remove-force': to('gone', 'destroy'),
    prune: to('gone', 'destroy'),
    'remove-failed': to('dead', 'mark-dead'),
    health: ignore('exited'),
    adopt: to('running', 'adopt'),
    'adopt-paused': to('paused', 'adopt'),
    'daemon-start': to('running', 'start-by-policy'),
  },
  dead: {
    create: alreadyExists,
    start: markedForRemoval('start'),
    stop: ignore('dead'),
    kill: notRunning('kill'),
    pause: notRunning('pause'),
    unpause: notPaused,
    restart: markedForRemoval('restart'),
    exit: ignore('dead'),
    'exit-restart': ignore('dead'),
    'policy-restart': ignore('dead'),
    remove: to('gone', 'destroy'),
    'remove-force': to('gone', 'destroy'),
    prune: to('gone', 'destroy'),
    'remove-failed': to('dead', 'mark-dead'),
    health: ignore('dead'),
    // A dead container's task is gone; should one turn up at start-up, it stays dead and rm -f deletes the task too.
    adopt: ignore('dead'),
    'adopt-paused': ignore('dead'),
    'daemon-start': ignore('dead'),
  },
};

/** The transition for `event` in state `from`; throws the refusal (naming both) when the table refuses it. */
export function transition(name: string, from: ContainerPhase, event: ContainerEvent): Transition {
  const cell = TABLE[from][event];
  if ('kind' in cell) {
    const message = `${cell.text(name, from)} ${bothStates(from, TARGET[event])}`;
    if (cell.kind === 'not-found') throw notFound(message);
    throw cell.kind === 'conflict' ? conflict(message) : failedPrecondition(message);
  }
  return { from, event, next: cell.next, action: cell.action };
}

/** How a refusal names a phase: `gone` is "removed" (no record). */
export function phaseWord(phase: ContainerPhase): string {
  return phase === 'gone' ? 'removed' : phase;
}

/** "(from exited to paused)"; "(it is paused)" when the event would lead where the container already is. */
export function bothStates(from: ContainerPhase, to: ContainerPhase): string {
  return from === to ? `(it is ${phaseWord(from)})` : `(from ${phaseWord(from)} to ${phaseWord(to)})`;
}

/** Whether `event` is allowed in `from` (a refusal would be thrown by `transition`). */
export function allows(from: ContainerPhase, event: ContainerEvent): boolean {
  return !('kind' in TABLE[from][event]);
}
