import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventLog } from '../../../runtime/events/log';
import type { SubscriptionItem } from '../../../runtime/events/events';
import { isGantryError } from '../../../runtime/errdefs/errdefs';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'evlog-'));
}

async function collect(items: AsyncIterable<SubscriptionItem>, count = Infinity): Promise<SubscriptionItem[]> {
  const out: SubscriptionItem[] = [];
  if (count === 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= count) break;
  }
  return out;
}

const sequences = (items: SubscriptionItem[]) => items.map((i) => (i.kind === 'event' ? i.event.sequence : `gap:${i.gap.oldest}`));
const ctx = () => ({ signal: new AbortController().signal });

describe('EventLog', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('numbers events from 1 and replays those after since', async () => {
    const log = EventLog.open(dir);
    for (let i = 0; i < 5; i++) log.publish('/test/tick', `id${i}`, { i: String(i) });
    assert.deepEqual(sequences(await collect(log.subscribe(ctx(), { since: 0, follow: false }))), [1, 2, 3, 4, 5]);
    assert.deepEqual(sequences(await collect(log.subscribe(ctx(), { since: 3, follow: false }))), [4, 5]);
    assert.deepEqual(sequences(await collect(log.subscribe(ctx(), { follow: false }))), []);
    log.close();
  });

  it('continues the sequence and replays across a reopen (daemon restart)', async () => {
    const first = EventLog.open(dir);
    first.publish('/a');
    first.publish('/b');
    first.close();
    const second = EventLog.open(dir);
    assert.equal(second.publish('/c').sequence, 3);
    const items = await collect(second.subscribe(ctx(), { since: 0, follow: false }));
    assert.deepEqual(
      items.map((i) => i.kind === 'event' && i.event.topic),
      ['/a', '/b', '/c'],
    );
    second.close();
  });

  it('delivers live events after the replay with no duplicate and no hole', async () => {
    const log = EventLog.open(dir);
    log.publish('/x');
    log.publish('/x');
    const controller = new AbortController();
    const received = collect(log.subscribe({ signal: controller.signal }, { since: 1, follow: true }), 4);
    log.publish('/x');
    log.publish('/x');
    log.publish('/x');
    assert.deepEqual(sequences(await received), [2, 3, 4, 5]);
    controller.abort();
    log.close();
  });

  it('filters by topic prefix in both replay and live phases', async () => {
    const log = EventLog.open(dir);
    log.publish('/images/create');
    log.publish('/containers/start');
    const received = collect(log.subscribe(ctx(), { since: 0, topics: ['/images/'], follow: true }), 2);
    log.publish('/containers/stop');
    log.publish('/images/delete');
    const items = await received;
    assert.deepEqual(
      items.map((i) => i.kind === 'event' && i.event.topic),
      ['/images/create', '/images/delete'],
    );
    log.close();
  });

  it('keeps only the retention limit, deletes old segments, and reports a gap to late resumers', async () => {
    const log = EventLog.open(dir, { retain: 10, segmentSize: 4 });
    for (let i = 0; i < 25; i++) log.publish('/t');
    assert.equal(log.oldest, 16);
    assert.equal(log.latest, 25);
    const items = await collect(log.subscribe(ctx(), { since: 3, follow: false }));
    assert.deepEqual(items[0], { kind: 'gap', gap: { oldest: 16, latest: 25 } });
    assert.equal(items.length, 11);
    // A resume point inside the retained window needs no gap.
    assert.deepEqual(sequences(await collect(log.subscribe(ctx(), { since: 20, follow: false }))), [21, 22, 23, 24, 25]);
    const segments = fs.readdirSync(dir);
    assert.ok(segments.length <= 4, `expected old segments deleted, found ${segments.join(', ')}`);
    log.close();
    const reopened = EventLog.open(dir, { retain: 10, segmentSize: 4 });
    assert.equal(reopened.oldest, 16);
    assert.equal(reopened.publish('/t').sequence, 26);
    reopened.close();
  });

  it('tells a client resuming from a sequence this log never wrote (data reset) to re-list', async () => {
    const log = EventLog.open(dir);
    log.publish('/t');
    const items = await collect(log.subscribe(ctx(), { since: 500, follow: false }));
    assert.deepEqual(items, [{ kind: 'gap', gap: { oldest: 1, latest: 1 } }]);
    log.close();
  });

  it('repairs a torn final line left by a crash mid-append', async () => {
    const log = EventLog.open(dir);
    log.publish('/a');
    log.publish('/b');
    log.close();
    const [segment] = fs.readdirSync(dir);
    fs.appendFileSync(path.join(dir, segment), '{"seq":3,"ts":"2026-');
    const reopened = EventLog.open(dir);
    assert.equal(reopened.latest, 2);
    assert.equal(reopened.publish('/c').sequence, 3);
    reopened.close();
    const lines = fs.readFileSync(path.join(dir, segment), 'utf8').trim().split('\n');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).seq),
      [1, 2, 3],
    );
  });

  it('cuts off a subscriber that falls too far behind instead of buffering without bound', async () => {
    const log = EventLog.open(dir, { maxSubscriberBacklog: 3 });
    const iterator = log.subscribe(ctx(), { follow: true })[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) log.publish('/flood');
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          if (next.value.kind === 'event') seen.push(next.value.event.sequence);
        }
      })(),
      (e: unknown) => isGantryError(e) && e.kind === 'ResourceExhausted',
    );
    assert.deepEqual(seen, [1, 2, 3]);
    log.close();
  });

  it('ends live subscriptions on close and on abort', async () => {
    const log = EventLog.open(dir);
    const controller = new AbortController();
    const aborted = collect(log.subscribe({ signal: controller.signal }, { follow: true }));
    const closed = collect(log.subscribe(ctx(), { follow: true }));
    log.publish('/one');
    controller.abort();
    assert.deepEqual(sequences(await aborted), [1]);
    log.close();
    assert.deepEqual(sequences(await closed), [1]);
  });
});
