/**
 * Whole lines out of one log file, forwards from an offset or backwards from
 * the end, in bounded chunks: a 100 MB log is never held in memory, and
 * `--tail 10` reads only the last few chunks.
 *
 * A line is the bytes before a `\n`. Bytes after the last `\n` are a write in
 * progress (or a crash mid-write): history stops before them and a follower
 * picks them up once their newline arrives. A "line" longer than MAX_LINE
 * cannot be a conmon entry (its payload is at most 8192 bytes); it is skipped
 * rather than buffered without bound.
 */
import * as fs from 'node:fs';

export const CHUNK = 64 * 1024;
export const MAX_LINE = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const NL = 0x0a;

/** Counts bytes read from disk; shared by every read of one request. */
export interface ReadCounter {
  bytesRead: number;
}

export interface LogHandle {
  readonly fh: fs.promises.FileHandle;
  /** Identity of the file, to tell a rotated or replaced path from the same file grown. */
  readonly dev: number;
  readonly ino: number;
}

export interface OpenLog extends LogHandle {
  /** Offset just past the last `\n` at open: where history ends and following starts. */
  readonly end: number;
}

export const sameFile = (a: { dev: number; ino: number }, b: { dev: number; ino: number } | undefined): boolean =>
  b !== undefined && a.dev === b.dev && a.ino === b.ino;

/** Opens `path` for reading; undefined when it does not exist. */
export async function openHandle(path: string): Promise<LogHandle | undefined> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = await fh.stat();
    return { fh, dev: st.dev, ino: st.ino };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Opens `path` and finds where its complete lines end; undefined when it does not exist. */
export async function openLog(path: string, counter?: ReadCounter): Promise<OpenLog | undefined> {
  const h = await openHandle(path);
  if (!h) return undefined;
  try {
    return { ...h, end: await endOfLastLine(h.fh, (await h.fh.stat()).size, counter) };
  } catch (e) {
    await h.fh.close();
    throw e;
  }
}

/** Offset just past the last `\n` before `size` (0 if none within MAX_LINE: then `size`, and the junk is skipped as too long). */
async function endOfLastLine(fh: fs.promises.FileHandle, size: number, counter?: ReadCounter): Promise<number> {
  const buf = Buffer.allocUnsafe(4096);
  let pos = size;
  while (pos > 0 && size - pos <= MAX_LINE) {
    const n = Math.min(buf.length, pos);
    const { bytesRead } = await fh.read(buf, 0, n, pos - n);
    if (counter) counter.bytesRead += bytesRead;
    if (bytesRead < n) throw new Error(`short read at ${pos - n}`); // the file shrank under us
    const i = buf.lastIndexOf(NL, n - 1);
    if (i >= 0) return pos - n + i + 1;
    pos -= n;
  }
  return pos === 0 ? 0 : size;
}

/**
 * Reads whole lines forward. `offset` is the start of the first line not yet
 * returned; bytes of an incomplete line are kept until their `\n` arrives, so
 * the cursor can be resumed after more data is appended (following).
 */
export class LineCursor {
  private leftover: Buffer = EMPTY;
  private skipping = false;
  /** Where the next read starts (offset + buffered incomplete line). */
  private readPos: number;

  constructor(
    readonly fh: fs.promises.FileHandle,
    public offset: number,
    private readonly counter?: ReadCounter,
  ) {
    this.readPos = offset;
  }

  /** Bytes consumed so far: a file smaller than this was truncated. */
  get position(): number {
    return this.readPos;
  }

  /** Starts over at 0 (after a truncation). */
  reset(): void {
    this.offset = this.readPos = 0;
    this.leftover = EMPTY;
    this.skipping = false;
  }

  /**
   * Yields lines (without `\n`) until `limit` or the current end of file. Each
   * Buffer is only valid until the next one is requested.
   */
  async *lines(limit?: number): AsyncGenerator<Buffer> {
    for (;;) {
      const want = limit === undefined ? CHUNK : Math.min(CHUNK, limit - this.readPos);
      if (want <= 0) return;
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.fh.read(buf, 0, want, this.readPos);
      if (bytesRead === 0) return;
      if (this.counter) this.counter.bytesRead += bytesRead;
      const base = this.readPos - this.leftover.length;
      this.readPos += bytesRead;
      const data = this.leftover.length > 0 ? Buffer.concat([this.leftover, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      this.leftover = EMPTY;
      let start = 0;
      for (let nl = data.indexOf(NL); nl >= 0; nl = data.indexOf(NL, start)) {
        const line = data.subarray(start, nl);
        start = nl + 1;
        this.offset = base + start;
        if (this.skipping) this.skipping = false;
        else yield line;
      }
      if (data.length - start > MAX_LINE) {
        this.skipping = true;
        this.offset = this.readPos;
      } else if (start < data.length) {
        this.leftover = Buffer.from(data.subarray(start));
      }
    }
  }
}

/**
 * Yields the lines of [0, end) newest first, reading CHUNK bytes at a time
 * from the end. `end` must be 0 or just past a `\n` (OpenLog.end is).
 */
export async function* linesBackward(fh: fs.promises.FileHandle, end: number, counter?: ReadCounter): AsyncGenerator<Buffer> {
  let pos = end;
  // Bytes from the start of the last chunk read up to the first line that
  // begins inside it: the end of a line whose start is in an earlier chunk.
  let rest: Buffer = EMPTY;
  let skipping = false;
  while (pos > 0) {
    const n = Math.min(CHUNK, pos);
    pos -= n;
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(buf, 0, n, pos);
    if (counter) counter.bytesRead += bytesRead;
    if (bytesRead < n) return; // shrank under us: whatever is left is not history any more
    const data = rest.length > 0 ? Buffer.concat([buf, rest]) : buf;
    // data ends with '\n' (the terminator of the newest line not yet returned).
    let stop = data.length - 1;
    for (let nl = stop > 0 ? data.lastIndexOf(NL, stop - 1) : -1; nl >= 0; nl = stop > 0 ? data.lastIndexOf(NL, stop - 1) : -1) {
      if (skipping) skipping = false;
      else yield data.subarray(nl + 1, stop);
      stop = nl;
    }
    if (pos === 0) {
      if (!skipping && stop >= 0) yield data.subarray(0, stop);
      return;
    }
    // Keep [0, stop] (the line's tail and its '\n') for the next chunk.
    if (stop + 1 > MAX_LINE) {
      skipping = true;
      rest = Buffer.from([NL]);
    } else {
      rest = Buffer.from(data.subarray(0, stop + 1));
    }
  }
}
