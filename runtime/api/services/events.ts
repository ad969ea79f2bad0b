import type { Envelope, EventsServer, SubscribeRequest, SubscribeResponse } from '../gen/gantry/v1/events';
import type { Event, Subscriber } from '../../events/events';
import type { HandlerAdapter } from '../server';

export function toEnvelope(event: Event): Envelope {
  return {
    sequence: event.sequence,
    timestamp: event.timestamp,
    topic: event.topic,
    id: event.id,
    attributes: { ...event.attributes },
  };
}

export function eventsService(adapt: HandlerAdapter, events: Subscriber): EventsServer {
  return {
    subscribe: adapt.serverStream<SubscribeRequest, SubscribeResponse>('Subscribe', async (ctx, request, send) => {
      const items = events.subscribe(ctx, {
        since: request.since,
        topics: request.topics,
        follow: !request.noFollow,
      });
      for await (const item of items) {
        if (item.kind === 'gap') await send({ kind: { $case: 'gap', value: item.gap } });
        else await send({ kind: { $case: 'event', value: toEnvelope(item.event) } });
      }
    }),
  };
}
