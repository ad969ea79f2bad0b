/**
 * The event subscription with resume, for the extension's connection and
 * `gantry events`: an EventCursor remembers the sequence of the last event
 * it handed out, and each follow() asks the daemon for what came after it,
 * so no event is lost across a dropped link or a daemon restart
 * (docs/architecture.md, "Events are sequenced and replayable"). A *gap*
 * (the events asked for are no longer retained) goes to `onGap`: the caller
 * must list again. Sequence numbers belong to one daemon: reset() when
 * switching to another.
 */
import type { Envelope, Gap, SubscribeRequest } from '../../api/gen/gantry/v1/events';
import type { RuntimeClient } from '../client';

export interface EventHandlers {
  onEvent(event: Envelope): void;
  onGap?(gap: Gap): void;
}

export class EventCursor {
  /** `since`: start after this sequence (undefined: only events from now on). */
  constructor(private last: number | undefined = undefined) {}

  /** The sequence of the last event handed out. */
  get lastSequence(): number | undefined {
    return this.last;
  }

  reset(): void {
    this.last = undefined;
  }

  /**
   * Subscribes from the last sequence and hands every message out in order.
   * Resolves when the daemon ends the stream (or `signal` aborts); rejects
   * with a GantryError when the connection fails.
   */
  async follow(
    client: RuntimeClient,
    handlers: EventHandlers,
    signal?: AbortSignal,
    filter: Pick<Partial<SubscribeRequest>, 'topics' | 'noFollow'> = {},
  ): Promise<void> {
    for await (const message of client.events.subscribe({ since: this.last, ...filter }, signal)) {
      const kind = message.kind;
      if (kind?.$case === 'gap') {
        handlers.onGap?.(kind.value);
      } else if (kind?.$case === 'event') {
        this.last = kind.value.sequence;
        handlers.onEvent(kind.value);
      }
    }
  }
}
