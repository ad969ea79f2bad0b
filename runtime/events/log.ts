/**
 * EventLog: the persistent, bounded implementation of events.Publisher and
 * events.Subscriber.
 *
 * On disk: `<dir>/<first sequence, 20 digits>.jsonl` segments, one JSON
 * object per line, appended with O_APPEND. A crash can tear only the last
 * line of the last segment; opening the log truncates such a line away.
 * Lines are not fsynced one by one: a killed daemon loses nothing (the page
 * cache survives the process), only a power loss can, and then the client
 * that saw a lost sequence is told about it with a gap.
 *
 * In memory: every retained event, so replays never touch the disk.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { resourceExhausted } from '../errdefs/errdefs';
import {
  matchesTopics,
  type Event,
  type Gap,
  type Publisher,
  type SubscribeOptions,
  type Subscriber,
  type SubscriptionItem,
} from './events';

export interface EventLogOptions {
  /** How many events are kept for replay. */
  retain?: number;
  /** Events per segment file; whole segments are deleted once outside retention. */
  segmentSize?: number;
  /** Queued, undelivered events after which a slow subscriber is cut off. */
  maxSubscriberBacklog?: number;
}

interface Segment {
  readonly first: number;
  readonly file: string;
  count: number;
}

interface LiveSubscriber {
  readonly topics: readonly string[] | undefined;
  readonly queue: Event[];
  wake?: () => void;
  failure?: Error;
  closed: boolean;
}

const SEGMENT_NAME = /^(\d{20})\.jsonl$/;

export class EventLog implements Publisher, Subscriber {
  private readonly events: Event[] = [];
  private readonly subscribers = new Set<LiveSubscriber>();
  private readonly segments: Segment[] = [];
  private fd: number | undefined;
  private nextSequence = 1;
  private closed = false;
  private readonly retain: number;
  private readonly segmentSize: number;
  private readonly maxBacklog: number;

  private constructor(
    private readonly dir: string,
    options: EventLogOptions,
  ) {
    this.retain = options.retain ?? 10_000;
    this.segmentSize = options.segmentSize ?? 1_000;
    this.maxBacklog = options.maxSubscriberBacklog ?? 10_000;
  }

  static open(dir: string, options: EventLogOptions = {}): EventLog {
    const log = new EventLog(dir, options);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    log.load();
    return log;
  }

  /** Newest sequence written, 0 when none. */
  get latest(): number {
    return this.nextSequence - 1;
  }

  /** Oldest sequence retained (latest + 1 when the log is empty). */
  get oldest(): number {
    return this.events[0]?.sequence ?? this.nextSequence;
  }

  publish(topic: string, id = '', attributes: Record<string, string> = {}): Event {
    if (this.closed) throw new Error('event log is closed');
    const event: Event = {
      sequence: this.nextSequence,
      timestamp: new Date(),
      topic,
      id,
      attributes: { ...attributes },
    };
    this.append(event);
    this.nextSequence++;
    this.events.push(event);
    if (this.events.length > this.retain) this.events.splice(0, this.events.length - this.retain);
    this.deleteExpiredSegments();
    for (const sub of this.subscribers) this.deliver(sub, event);
    return event;
  }

  subscribe(ctx: Ctx, options: SubscribeOptions): AsyncIterable<SubscriptionItem> {
    // Snapshot the replay and register for live events in one synchronous
    // step, so nothing published in between is lost or delivered twice.
    const { since } = options;
    let gap: Gap | undefined;
    let replay: Event[] = [];
    if (since !== undefined) {
      if (since + 1 < this.oldest || since > this.latest) gap = { oldest: this.oldest, latest: this.latest };
      replay = this.events.filter((e) => e.sequence > since && matchesTopics(e.topic, options.topics));
    }
    const sub: LiveSubscriber = { topics: options.topics, queue: [], closed: false };
    if (options.follow && !this.closed) {
      this.subscribers.add(sub);
      const onAbort = () => this.drop(sub);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    }
    return this.iterate(sub, gap, replay, options.follow);
  }

  /** Stops accepting events, ends every live subscription and closes the segment file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const sub of [...this.subscribers]) this.drop(sub);
    if (this.fd !== undefined) {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private async *iterate(sub: LiveSubscriber, gap: Gap | undefined, replay: Event[], follow: boolean): AsyncGenerator<SubscriptionItem> {
    try {
      if (gap) yield { kind: 'gap', gap };
      for (const event of replay) yield { kind: 'event', event };
      if (!follow) return;
      for (;;) {
        const next = sub.queue.shift();
        if (next) {
          yield { kind: 'event', event: next };
          continue;
        }
        if (sub.failure) throw sub.failure;
        if (sub.closed) return;
        await new Promise<void>((resolve) => (sub.wake = resolve));
        sub.wake = undefined;
      }
    } finally {
      this.subscribers.delete(sub);
    }
  }

  private deliver(sub: LiveSubscriber, event: Event): void {
    if (!matchesTopics(event.topic, sub.topics)) return;
    if (sub.queue.length >= this.maxBacklog) {
      sub.failure = resourceExhausted(
        `event subscriber fell more than ${this.maxBacklog} events behind; resubscribe with since=${event.sequence - 1 - sub.queue.length}`,
      );
      this.drop(sub);
      return;
    }
    sub.queue.push(event);
    sub.wake?.();
  }

  private drop(sub: LiveSubscriber): void {
    sub.closed = true;
    this.subscribers.delete(sub);
    sub.wake?.();
  }

  private append(event: Event): void {
    let segment = this.segments[this.segments.length - 1];
    if (!segment || segment.count >= this.segmentSize || this.fd === undefined) {
      if (this.fd !== undefined) fs.closeSync(this.fd);
      if (!segment || segment.count >= this.segmentSize) {
        segment = { first: event.sequence, file: path.join(this.dir, segmentName(event.sequence)), count: 0 };
        this.segments.push(segment);
      }
      this.fd = fs.openSync(segment.file, 'a', 0o600);
    }
    const line = JSON.stringify({
      seq: event.sequence,
      ts: event.timestamp.toISOString(),
      topic: event.topic,
      id: event.id,
      attrs: event.attributes,
    });
    fs.writeSync(this.fd, line + '\n');
    segment.count++;
  }

  private deleteExpiredSegments(): void {
    // A segment may go once the next one starts at or before the oldest retained event.
    while (this.segments.length > 1 && this.segments[1].first <= this.oldest) {
      const expired = this.segments.shift()!;
      fs.rmSync(expired.file, { force: true });
    }
  }

  private load(): void {
    const names = fs
      .readdirSync(this.dir)
      .filter((n) => SEGMENT_NAME.test(n))
      .sort();
    names.forEach((name, index) => {
      const file = path.join(this.dir, name);
      const segment: Segment = { first: Number(SEGMENT_NAME.exec(name)![1]), file, count: 0 };
      const isLast = index === names.length - 1;
      for (const event of readSegment(file, isLast)) {
        // Sequences only ever grow; anything else is a damaged or foreign line.
        if (event.sequence < this.nextSequence) continue;
        this.events.push(event);
        this.nextSequence = event.sequence + 1;
        segment.count++;
      }
      this.segments.push(segment);
    });
    if (this.events.length > this.retain) this.events.splice(0, this.events.length - this.retain);
    this.deleteExpiredSegments();
  }
}

function segmentName(first: number): string {
  return `${String(first).padStart(20, '0')}.jsonl`;
}

function readSegment(file: string, repairTail: boolean): Event[] {
  const text = fs.readFileSync(file, 'utf8');
  const complete = text.lastIndexOf('\n') + 1;
  if (repairTail && complete < text.length) {
    // A torn final line from a crash mid-append: cut it so the next append starts clean.
    fs.truncateSync(file, Buffer.byteLength(text.slice(0, complete)));
  }
  const events: Event[] = [];
  for (const line of text.slice(0, complete).split('\n')) {
    if (!line) continue;
    const parsed = parseLine(line);
    if (parsed) events.push(parsed);
  }
  return events;
}

function parseLine(line: string): Event | undefined {
  try {
    const raw = JSON.parse(line) as { seq?: unknown; ts?: unknown; topic?: unknown; id?: unknown; attrs?: unknown };
    if (typeof raw.seq !== 'number' || typeof raw.topic !== 'string' || typeof raw.ts !== 'string') return undefined;
    const attributes: Record<string, string> = {};
    if (raw.attrs && typeof raw.attrs === 'object') {
      for (const [k, v] of Object.entries(raw.attrs)) if (typeof v === 'string') attributes[k] = v;
    }
    return {
      sequence: raw.seq,
      timestamp: new Date(raw.ts),
      topic: raw.topic,
      id: typeof raw.id === 'string' ? raw.id : '',
      attributes,
    };
  } catch {
    return undefined;
  }
}
