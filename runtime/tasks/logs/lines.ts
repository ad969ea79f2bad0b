/**
 * From k8s-file entries to whole lines: joining partial chunks, and choosing
 * the last N lines while reading a log backwards.
 *
 * A line is a run of `P` entries of one stream ended by an `F` entry of the
 * same stream; entries of the other stream may sit in between. A line's time
 * and position are those of its last entry (the one that completed it), so
 * "the last N lines" are the N latest line ends, and since/until compare that
 * time. Entries at the end of the data that no `F` has completed yet count as
 * one (partial) line per stream.
 */
import type { LogEntry, LogStream } from './format';

/** Joined lines are cut (and emitted as partial) beyond this size, so an endless line cannot use unbounded memory. */
export const MAX_JOINED = 1024 * 1024;

interface Pending {
  parts: LogEntry[];
  bytes: number;
  /** Arrival order of the last part, to flush in order. */
  seq: number;
}

export class PartialJoiner {
  private readonly pending = new Map<LogStream, Pending>();
  private seq = 0;

  /**
   * Takes the next entry in file order. Returns a whole line when the entry
   * completes one (or is one), a partial line when a pending one grew past
   * MAX_JOINED, and undefined when the entry is held as part of a line.
   */
  push(e: LogEntry): LogEntry | undefined {
    const p = this.pending.get(e.stream);
    if (!e.partial) {
      if (!p) return e;
      this.pending.delete(e.stream);
      return join([...p.parts, e], false);
    }
    const seq = ++this.seq;
    if (!p) {
      this.pending.set(e.stream, { parts: [e], bytes: e.data.length, seq });
      return undefined;
    }
    p.parts.push(e);
    p.bytes += e.data.length;
    p.seq = seq;
    if (p.bytes < MAX_JOINED) return undefined;
    this.pending.delete(e.stream);
    return join(p.parts, true);
  }

  /** The incomplete lines held so far, joined and marked partial, in order; forgets them. */
  flush(): LogEntry[] {
    const out = [...this.pending.values()].sort((a, b) => a.seq - b.seq).map((p) => join(p.parts, true));
    this.pending.clear();
    return out;
  }
}

function join(parts: LogEntry[], partial: boolean): LogEntry {
  const last = parts[parts.length - 1];
  if (parts.length === 1 && last.partial === partial) return last;
  return { ...last, partial, data: parts.length === 1 ? last.data : Buffer.concat(parts.map((p) => p.data)) };
}

/**
 * Fed entries newest first (a backward scan across the live file, then the
 * rotated ones), keeps those that make up the last `n` lines inside the
 * window. `offer` returns false once nothing older can matter: n lines found
 * and each of them reaches back to its first chunk.
 */
export class TailSelector {
  private readonly kept: LogEntry[] = [];
  private count = 0;
  /** Streams with an entry seen (so a later P is not the end of the data). */
  private readonly seen = new Set<LogStream>();
  /** Streams whose newest-seen line is kept: their earlier P entries belong to it. */
  private readonly open = new Set<LogStream>();

  constructor(
    private readonly n: number,
    private readonly inWindow: (e: LogEntry) => boolean,
  ) {}

  get done(): boolean {
    return this.count >= this.n && this.open.size === 0;
  }

  offer(e: LogEntry): boolean {
    if (this.done) return false;
    const endsLine = !e.partial || !this.seen.has(e.stream);
    this.seen.add(e.stream);
    if (endsLine) {
      // The line before (in time) this one ends here: what is kept of the
      // newer line of this stream is complete.
      this.open.delete(e.stream);
      if (this.count < this.n && this.inWindow(e)) {
        this.count++;
        this.open.add(e.stream);
        this.kept.push(e);
      }
    } else if (this.open.has(e.stream)) {
      this.kept.push(e);
    }
    return !this.done;
  }

  /** The kept entries in file order, ready for a PartialJoiner. */
  entries(): LogEntry[] {
    return [...this.kept].reverse();
  }
}
