/**
 * Entry content I/O: reading an entry's bytes from tar-stream and writing
 * them to a file descriptor (whole, synchronously, for small files; streamed
 * through the thread pool, in order and with backpressure, for large ones).
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

/** The entry's content: tar-stream's per-entry readable. */
export interface EntryData {
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'end' | 'close', fn: () => void): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  /** streamx: destroy() was called (its 'error' and 'close' may already have been emitted). */
  readonly destroying?: boolean;
}

/**
 * The extractor can tear an entry's stream down (cancel, a failed layer
 * stream) while the writer is still between entries, yielding to the event
 * loop; the stream's 'close' is then gone before anyone listened. A reader
 * that starts after that must fail at once instead of waiting for ever.
 */
function tornDown(data: EntryData): Error | undefined {
  return data.destroying ? new Error('entry content ended early') : undefined;
}

const writev = promisify(fs.writev);

/** Queued bytes of a large file above which its entry stream is paused. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** Consumes an entry's content (links, devices, whiteouts may carry bytes that mean nothing). */
export async function drain(h: { readonly size?: number; readonly type?: string | null }, data: EntryData): Promise<void> {
  if ((h.size ?? 0) === 0 || h.type === 'directory') return;
  await readAll(data, true);
}

export function readAll(data: EntryData, discard = false): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const gone = tornDown(data);
    if (gone) return reject(gone);
    const chunks: Buffer[] = [];
    let done = false;
    data.on('data', (c: Buffer) => {
      if (!discard) chunks.push(c);
    });
    data.on('end', () => {
      done = true;
      resolve(chunks);
    });
    data.on('error', (e: Error) => {
      done = true;
      reject(e);
    });
    data.on('close', () => {
      if (!done) reject(new Error('entry content ended early'));
    });
  });
}

export function writevAllSync(fd: number, chunks: Buffer[]): void {
  let total = 0;
  for (const c of chunks) total += c.length;
  while (total > 0) {
    const n = fs.writevSync(fd, chunks);
    total -= n;
    if (total > 0) chunks = skipBytes(chunks, n);
  }
}

async function writevAll(fd: number, chunks: Buffer[]): Promise<void> {
  let total = 0;
  for (const c of chunks) total += c.length;
  while (total > 0) {
    const n = (await writev(fd, chunks)).bytesWritten;
    total -= n;
    if (total > 0) chunks = skipBytes(chunks, n);
  }
}

/** What is left of `chunks` after a short write of `n` bytes (rare on regular files). */
function skipBytes(chunks: Buffer[], n: number): Buffer[] {
  const rest = [...chunks];
  while (n >= rest[0].length) n -= rest.shift()!.length;
  rest[0] = rest[0].subarray(n);
  return rest;
}

/**
 * Writes a large file's chunks in order as they arrive, batching what piles
 * up during a write into one writev, and pausing the entry stream while more
 * than MAX_QUEUED_BYTES wait. `read` settles when the entry has been read (or
 * a write failed); `written` when every byte is written or writing stopped.
 */
export function streamToFd(fd: number, data: EntryData): { read: Promise<void>; written: Promise<void> } {
  let queue: Buffer[] = [];
  let queued = 0;
  let writing = false;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let settleRead!: (e?: unknown) => void;
  let settleWritten!: (e?: unknown) => void;
  const read = new Promise<void>((resolve, reject) => (settleRead = settler(resolve, reject)));
  const written = new Promise<void>((resolve, reject) => (settleWritten = settler(resolve, reject)));
  written.catch(() => undefined);
  const fail = (e: unknown) => {
    if (failure) return;
    failure = { error: e };
    settleRead(e);
    if (!writing) settleWritten(e);
  };
  const pump = () => {
    if (writing || failure) return;
    if (queue.length === 0) {
      if (ended) settleWritten();
      return;
    }
    const batch = queue;
    queue = [];
    queued = 0;
    writing = true;
    data.resume();
    writevAll(fd, batch).then(
      () => {
        writing = false;
        if (failure) settleWritten(failure.error);
        else pump();
      },
      (e: unknown) => {
        writing = false;
        fail(e);
        settleWritten(e);
      },
    );
  };
  data.on('data', (c: Buffer) => {
    if (failure) return;
    queue.push(c);
    queued += c.length;
    if (queued > MAX_QUEUED_BYTES) data.pause();
    pump();
  });
  data.on('end', () => {
    ended = true;
    settleRead();
    pump();
  });
  data.on('error', (e: Error) => fail(e));
  data.on('close', () => {
    if (!ended) fail(new Error('entry content ended early'));
  });
  const gone = tornDown(data);
  if (gone) fail(gone);
  return { read, written };
}

/** Settles a promise: resolved when called without an error, else rejected with the error as it was thrown. */
function settler(resolve: () => void, reject: (e: unknown) => void): (e?: unknown) => void {
  return (e) => (e === undefined ? resolve() : reject(e));
}
