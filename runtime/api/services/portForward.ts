/**
 * gantry.v1.Containers/PortForward: one call is one TCP connection to a
 * container port (containers/portForward.ts makes it). The first message
 * names the container and port; then data both ways, each direction with
 * flow control: a chunk from the container is read only once the previous
 * one was accepted by the call, and the client's next message is read only
 * once the connection took the previous one. Ends: the client half-closes
 * its side → the connection's write side ends; the container's side ends →
 * `eof`; the call ends when the connection is over (both directions done,
 * or a reset, which fails the call with the relay's reason).
 */
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import type { Ctx } from '../../context';
import { invalidArgument, unimplemented } from '../../errdefs/errdefs';
import type { PortForwarder } from '../../containers/portForward';
import type { PortForwardRequest, PortForwardResponse } from '../gen/gantry/v1/containers';

export async function forwardPort(
  ctx: Ctx,
  forwarder: PortForwarder | undefined,
  incoming: AsyncIterable<PortForwardRequest>,
  send: (message: PortForwardResponse) => Promise<void>,
): Promise<void> {
  if (!forwarder) throw unimplemented('port forwarding is not available in this daemon');
  // Not the plain async iterator: on the client's half-close it would end
  // and so destroy the call, and with it every later send of ours.
  const input = incoming instanceof Readable ? incoming.iterator({ destroyOnReturn: false }) : incoming[Symbol.asyncIterator]();
  const first = (await input.next()).value as PortForwardRequest | undefined;
  if (first?.kind?.$case !== 'start') throw invalidArgument('the first port-forward message must be "start"');
  const conn = await forwarder.dial(ctx, first.kind.value.id, first.kind.value.port);
  // The client gone (cancelled, link dropped): end the connection even while nothing flows.
  const onAbort = () => conn.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  try {
    await send({ kind: { $case: 'connected', value: true } });
    const over = conn.closed.then(
      () => true,
      () => true,
    );
    // A failing client side aborts ctx, which closes the connection and so ends this call.
    const upstream = copyIn(input, conn.socket, over).catch(() => undefined);
    // Not destroyed when its read side ends: the container may still read what the client sends.
    for await (const chunk of conn.socket.iterator({ destroyOnReturn: false })) {
      await send({ kind: { $case: 'data', value: chunk as Buffer } });
    }
    await send({ kind: { $case: 'eof', value: true } });
    // The connection closes once both directions are done (or it was reset),
    // so its end is the call's end; what the client still sends after that
    // has nowhere to go.
    await conn.closed;
    await upstream;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    conn.close();
  }
}

/** The client's data into the connection, until the client half-closes (then the write side ends) or the connection is over. */
async function copyIn(input: AsyncIterator<PortForwardRequest>, sink: Writable, over: Promise<boolean>): Promise<void> {
  const overNext = over.then(() => undefined);
  for (;;) {
    const next = await Promise.race([input.next(), overNext]);
    if (!next) return;
    if (next.done) break;
    const kind = next.value.kind;
    if (kind?.$case !== 'data') continue;
    if (!sink.write(kind.value)) {
      const stop = await Promise.race([
        once(sink, 'drain').then(
          () => false,
          () => true,
        ),
        over,
      ]);
      if (stop) return;
    }
  }
  sink.end();
}
