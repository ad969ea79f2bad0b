/**
 * Events: the daemon's sequenced, replayable record of state changes.
 *
 * Terms
 * - An *event* is one state change: a topic ("/images/create"), the id of its
 *   subject, string attributes, a timestamp and a *sequence* number.
 * - Sequence numbers start at 1, increase by one per event, are never reused,
 *   and survive daemon restarts (the log is persisted under the data root).
 * - The log is *bounded*: the oldest events are dropped once more than the
 *   retention limit are kept. A subscriber asking to resume from a sequence
 *   that was dropped (or from one this daemon never wrote — its data was
 *   reset) first receives a *gap*, which means "re-list, then carry on".
 *
 * Rules
 * - `publish` is synchronous and ordered: the event is written to the log
 *   before any subscriber sees it, so a subscriber never sees an event a
 *   restarted daemon would not replay.
 * - A subscription replays retained events after `since`, then follows live
 *   ones, without duplicates or holes between the two phases.
 * - A subscriber that falls too far behind is ended with ResourceExhausted
 *   rather than letting its queue grow without bound; it resumes with `since`.
 */
import type { Ctx } from '../context';

export interface Event {
  readonly sequence: number;
  readonly timestamp: Date;
  readonly topic: string;
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface Gap {
  /** Oldest sequence still retained. */
  readonly oldest: number;
  /** Newest sequence written (0 when none). */
  readonly latest: number;
}

export type SubscriptionItem = { kind: 'event'; event: Event } | { kind: 'gap'; gap: Gap };

export interface SubscribeOptions {
  /** Replay events with sequence > since; undefined = only new events. */
  since?: number;
  /** Topic prefixes to keep; empty = all. */
  topics?: readonly string[];
  /** Stop after the replay instead of following live events. */
  follow: boolean;
}

export interface Publisher {
  publish(topic: string, id?: string, attributes?: Record<string, string>): Event;
}

export interface Subscriber {
  /** Ends when ctx.signal aborts, when follow is false and the replay is done, or when the log closes. */
  subscribe(ctx: Ctx, options: SubscribeOptions): AsyncIterable<SubscriptionItem>;
}

/** Topics published by the daemon. Later components add their own. */
export const Topics = {
  daemonStart: '/daemon/start',
  daemonStop: '/daemon/stop',
} as const;

export function matchesTopics(topic: string, prefixes: readonly string[] | undefined): boolean {
  return !prefixes || prefixes.length === 0 || prefixes.some((p) => topic.startsWith(p));
}
