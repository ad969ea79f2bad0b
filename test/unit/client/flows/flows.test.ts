import { strict as assert } from 'node:assert';
import {
  BlobStatus,
  EventCursor,
  LogCursor,
  pullImage,
  stdioMessages,
  StdStream,
  type Envelope,
  type LogEntry,
  type LogsOptions,
  type RuntimeClient,
} from '../../../../runtime/client';

/** A RuntimeClient whose calls replay what the test scripted, recording the requests. */
function fakeClient(parts: Record<string, unknown>): RuntimeClient {
  return parts as unknown as RuntimeClient;
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const entry = (ms: number, text: string): LogEntry => ({
  timestamp: new Date(ms),
  stream: StdStream.STD_STREAM_STDOUT,
  data: Buffer.from(text),
});
const event = (sequence: number): Envelope => ({ sequence, topic: '/t', id: '', attributes: {}, timestamp: new Date(0) });

describe('client flows', () => {
  it('log cursor: the first follow asks with the caller options, a later one resumes after the last line shown', async () => {
    const asked: LogsOptions[] = [];
    const replies = [
      [entry(1, 'a'), entry(2, 'b'), entry(2, 'c')],
      // The daemon sends the lines of the last millisecond again (and an older one): only 'd' is new.
      [entry(1, 'a'), entry(2, 'b'), entry(2, 'c'), entry(3, 'd')],
    ];
    const client = fakeClient({
      containers: { logs: (_id: string, options: LogsOptions) => (asked.push(options), from(replies.shift()!)) },
    });
    const cursor = new LogCursor();
    const texts = async () => {
      const out: string[] = [];
      for await (const e of cursor.entries(client, 'c1', { follow: true, tail: 10 })) out.push(e.data.toString());
      return out;
    };
    assert.equal(cursor.resuming, false);
    assert.deepEqual(await texts(), ['a', 'b', 'c']);
    assert.equal(cursor.resuming, true);
    assert.deepEqual(await texts(), ['d']);
    assert.deepEqual(asked, [
      { follow: true, tail: 10 },
      { follow: true, since: new Date(2) },
    ]);
  });

  it('event cursor: resumes from the last sequence, reports gaps, starts afresh after reset', async () => {
    const since: (number | undefined)[] = [];
    const replies = [
      [{ kind: { $case: 'event', value: event(4) } }, { kind: { $case: 'event', value: event(5) } }],
      [{ kind: { $case: 'gap', value: { oldest: 9, latest: 12 } } }, { kind: { $case: 'event', value: event(9) } }],
      [],
    ];
    const client = fakeClient({
      events: { subscribe: (request: { since?: number }) => (since.push(request.since), from(replies.shift()!)) },
    });
    const cursor = new EventCursor(3);
    const seen: number[] = [];
    const gaps: number[] = [];
    const handlers = { onEvent: (e: Envelope) => seen.push(e.sequence), onGap: (g: { oldest: number }) => gaps.push(g.oldest) };
    await cursor.follow(client, handlers);
    await cursor.follow(client, handlers);
    assert.equal(cursor.lastSequence, 9);
    cursor.reset();
    await cursor.follow(client, handlers);
    assert.deepEqual(since, [3, 5, undefined]);
    assert.deepEqual(seen, [4, 5, 9]);
    assert.deepEqual(gaps, [9]);
  });

  it('stdio messages: output by stream, the exit code, an exec start', async () => {
    const session = {
      responses: () =>
        from([
          { kind: { $case: 'started', value: { execId: 'e1', pid: 42 } } },
          { kind: { $case: 'output', value: { stream: StdStream.STD_STREAM_STDOUT, data: Buffer.from('out') } } },
          { kind: { $case: 'output', value: { stream: StdStream.STD_STREAM_STDERR, data: Buffer.from('err') } } },
          { kind: { $case: 'exitCode', value: 3 } },
        ] as never[]),
    };
    const messages = [];
    for await (const m of stdioMessages(session)) messages.push(m);
    assert.deepEqual(messages, [
      { started: { execId: 'e1', pid: 42 } },
      { output: Buffer.from('out'), stream: 'stdout' },
      { output: Buffer.from('err'), stream: 'stderr' },
      { exitCode: 3 },
    ]);
  });

  it('pull: hands out resolve and blob progress, returns the record and whether anything was downloaded', async () => {
    const requests: unknown[] = [];
    const blob = (status: BlobStatus) => ({ kind: { $case: 'blob', value: { digest: 'sha256:ab', status, offset: 0, total: 1 } } });
    const replies = [
      [
        { kind: { $case: 'resolved', value: {} } },
        blob(BlobStatus.BLOB_STATUS_DOWNLOADING),
        blob(BlobStatus.BLOB_STATUS_DONE),
        { kind: { $case: 'image', value: { name: 'x' } } },
      ],
      [blob(BlobStatus.BLOB_STATUS_EXISTS)],
    ];
    const client = fakeClient({ images: { pull: (request: unknown) => (requests.push(request), from(replies.shift()!)) } });
    const events: string[] = [];
    const handlers = {
      onResolved: () => events.push('resolved'),
      onBlob: (b: { status: BlobStatus }) => events.push(BlobStatus[b.status]),
    };
    const ref = '127.0.0.1:5000/test/busybox:oci';
    const first = await pullImage(client, { reference: ref, platform: 'linux/amd64', auth: undefined }, handlers);
    assert.deepEqual(first, { image: { name: 'x' }, downloaded: true });
    assert.deepEqual(events, ['resolved', 'BLOB_STATUS_DOWNLOADING', 'BLOB_STATUS_DONE']);
    const second = await pullImage(client, { reference: ref, auth: undefined });
    assert.deepEqual(second, { image: undefined, downloaded: false });
    assert.deepEqual(requests, [
      { reference: '127.0.0.1:5000/test/busybox:oci', platform: 'linux/amd64', auth: undefined },
      { reference: '127.0.0.1:5000/test/busybox:oci', platform: '', auth: undefined },
    ]);
  });
});
