/**
 * Following a container log (`logs -f`): new entries as they are written,
 * through rotations, truncations and restarts, until the caller says stop.
 *
 * The follower holds an fd on the file it reads (the *held* file). Each time
 * it has read to the end, it looks at what the paths name now:
 * - The live path names the held file: read what was appended. If the file is
 *   smaller than what was read, it was truncated: start again at 0.
 * - Otherwise, open the rotation chain (`.k` … `.1`, then the live file) as one
 *   consistent snapshot (chainSnapshot) and find the files newer than the held
 *   one: those after it in the chain, matched by identity (dev, ino).
 *   - No newer file: the held file is still the newest. gantryd renamed it to
 *     `.1` and conmon has not reopened yet (or never will, being gone), so
 *     keep reading it.
 *   - Newer files: the held file is final, because conmon's reopen closes the
 *     old file before it creates the new one. Read the held file to its end,
 *     then the newer ones in order, and hold the newest. An empty new live
 *     file is only taken once it has bytes; until then there is nothing to
 *     read in it.
 *   - The held file has left the chain, so identity cannot place it. Either
 *     it was rotated out of the old end while the follower lagged, or it was
 *     replaced at the live end by a reopen with no rename first (conmon's
 *     --log-size-max). Content places it instead: read it to its end, and the
 *     newer files are those whose first entry is later than its last entry.
 * One loss cannot be avoided. A file rotated out of existence before the
 * follower got to it (more than `keep` files behind) is gone, with its lines.
 * With the default 10 MB limit, that takes a follower 10 MB behind.
 * A restart is just more data: the new conmon appends to the same path.
 *
 * Waking up: an fs.watch on the log's directory sees appends, the rename and
 * the new file, including writes to the renamed `.1` in the same directory.
 * A poll every `pollMs` is the fallback for missed or unsupported events.
 * Nothing spins: between wake-ups the follower sleeps.
 *
 * Stopping: the follower asks `shouldStop()` only when idle (everything
 * available has been read). On true, it drains once more (bytes written just
 * before the exit) and ends. `stopWhenGone` builds the usual policy: stop
 * once the container is removed, or after it has been down for longer than a
 * grace period. The grace spans a restart by the restart policy, and lets the
 * last output land after the exit. An aborted ctx ends the stream at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../../context';
import { CHUNK, LineCursor, LogHandle, ReadCounter, openHandle, sameFile } from './logFile';
import { LogEntry, parseLogLine } from './format';
import type { LogFiles } from './logs';

export interface FollowOptions {
  /** Asked each time the follower has read everything and is about to wait. */
  readonly shouldStop: () => boolean | Promise<boolean>;
  /** Fallback poll (and the cadence of shouldStop checks) in ms; default 500. */
  readonly pollMs?: number;
}

/** Yielded (instead of an entry) each time the follower has read everything and will wait. */
export const IDLE = Symbol('idle');

const DEFAULT_POLL_MS = 500;

/**
 * A shouldStop for the usual case: stop when the container is removed, or has
 * not been running for `graceMs` (default 2 s) in a row. A restart within the
 * grace keeps the follower going.
 */
export function stopWhenGone(opts: { isRunning: () => boolean; isRemoved?: () => boolean; graceMs?: number }): () => boolean {
  const graceMs = opts.graceMs ?? 2000;
  let downSince: number | undefined;
  return () => {
    if (opts.isRemoved?.()) return true;
    if (opts.isRunning()) {
      downSince = undefined;
      return false;
    }
    downSince ??= Date.now();
    return Date.now() - downSince >= graceMs;
  };
}

interface Current {
  log: LogHandle;
  cursor: LineCursor;
}

/**
 * Entries appended to the log from `start` on (or from the beginning of the
 * first file that appears), with IDLE markers between bursts; malformed lines
 * are skipped. `start.lastNs` is the time of the newest entry before `start`. Closes every fd it holds, including `start.log.fh`, when it
 * ends or the consumer stops.
 */
export async function* followLog(
  ctx: Ctx,
  files: LogFiles,
  start: { log: LogHandle; offset: number; lastNs: bigint | undefined } | undefined,
  opts: FollowOptions,
  counter?: ReadCounter,
): AsyncGenerator<LogEntry | typeof IDLE> {
  let cur: Current | undefined = start && { log: start.log, cursor: new LineCursor(start.log.fh, start.offset, counter) };
  /** Time of the newest entry already seen (the history's, then ours): places files when the held one has left the chain. */
  let lastNs = start?.lastNs;
  const wake = new Wakeup(path.dirname(files.path), opts.pollMs ?? DEFAULT_POLL_MS, ctx.signal);

  async function* read(cursor: LineCursor): AsyncGenerator<LogEntry> {
    for await (const line of cursor.lines()) {
      const e = parseLogLine(line);
      if (!e) continue;
      lastNs = e.timeNs;
      yield e;
    }
  }

  // Reads everything available, moving along the rotation chain; returns whether anything was read.
  async function* pump(): AsyncGenerator<LogEntry, boolean> {
    let any = false;
    for (;;) {
      if (cur) {
        for await (const e of read(cur.cursor)) {
          any = true;
          yield e;
        }
      }
      const live = await statIfExists(files.path);
      if (cur && live && sameFile(live, cur.log)) {
        if (live.size >= cur.cursor.position) return any;
        cur.cursor.reset(); // truncated
        continue;
      }
      const chain = await chainSnapshot(files);
      let adopted: ChainFile | undefined;
      try {
        const at = cur ? chain.findIndex((f) => sameFile(f.handle, cur!.log)) : -1;
        if (cur && at < 0) {
          // The held file left the chain, so it is final: read it to its
          // end; its last entry then places the chain's files.
          for await (const e of read(cur.cursor)) {
            any = true;
            yield e;
          }
        }
        const next = !cur ? chain : at >= 0 ? chain.slice(at + 1) : await laterThan(chain, lastNs, files.path);
        if (next.length === 0) return any;
        const newest = next[next.length - 1];
        // Only an empty new file: nothing to read there yet, and waiting for
        // its first bytes tolerates a writer that creates it before it stops
        // writing the old one (conmon does not, but logrotate's `create` does).
        if (cur && next.length === 1 && (await newest.handle.fh.stat()).size === 0) return any;
        if (cur) {
          for await (const e of read(cur.cursor)) {
            any = true;
            yield e;
          }
          await cur.log.fh.close();
          cur = undefined;
        }
        for (const between of next.slice(0, -1)) {
          for await (const e of read(new LineCursor(between.handle.fh, 0, counter))) {
            any = true;
            yield e;
          }
        }
        adopted = newest;
        cur = { log: newest.handle, cursor: new LineCursor(newest.handle.fh, 0, counter) };
      } finally {
        // Also reached when the consumer stops mid-file: only `cur` stays open.
        for (const f of chain) if (f !== adopted) await f.handle.fh.close();
      }
    }
  }

  try {
    while (!ctx.signal.aborted) {
      if (yield* pump()) continue;
      yield IDLE;
      if (ctx.signal.aborted) return;
      if (await opts.shouldStop()) {
        yield* pump();
        return;
      }
      await wake.wait();
    }
  } finally {
    wake.close();
    await cur?.log.fh.close().catch(() => undefined);
  }
}

interface ChainFile {
  handle: LogHandle;
  path: string;
}

/**
 * The chain's files, oldest first, opened, as one consistent snapshot: a
 * rotation renames files along the chain while we look, and a path-by-path
 * scan could see a file twice or miss one (and then re-read an older file,
 * or skip a newer one). So after opening, every path is checked to still
 * name what was opened, else the scan is retried. Rotations only move files
 * towards older slots, so a mapping that did not change between the two
 * passes is a state the chain was really in.
 */
async function chainSnapshot(files: LogFiles): Promise<ChainFile[]> {
  const paths = [...[...files.rotated].reverse(), files.path];
  for (let attempt = 0; ; attempt++) {
    const opened: (LogHandle | undefined)[] = [];
    try {
      for (const p of paths) opened.push(await openHandle(p));
      if (attempt < MAX_SNAPSHOT_ATTEMPTS && !(await stillNamed(paths, opened))) {
        await closeAll(opened);
        continue;
      }
    } catch (e) {
      await closeAll(opened);
      throw e;
    }
    const chain: ChainFile[] = [];
    for (let i = 0; i < paths.length; i++) {
      const h = opened[i];
      if (h) chain.push({ handle: h, path: paths[i] });
    }
    return chain;
  }
}

/** Past this many changed snapshots in a row (a rotation storm), the last one is used as it is. */
const MAX_SNAPSHOT_ATTEMPTS = 20;

/** The files whose first entry is later than `lastNs` (an empty or unreadable one counts only if it is the live file). */
async function laterThan(chain: ChainFile[], lastNs: bigint | undefined, livePath: string): Promise<ChainFile[]> {
  if (lastNs === undefined) return chain;
  const later: ChainFile[] = [];
  for (const f of chain) {
    const first = await firstEntryNs(f.handle);
    if (first === undefined ? f.path === livePath : first > lastNs) later.push(f);
  }
  return later;
}

/** Time of the first well-formed entry in the file's first chunk, if any. */
async function firstEntryNs(h: LogHandle): Promise<bigint | undefined> {
  const buf = Buffer.allocUnsafe(CHUNK);
  const { bytesRead } = await h.fh.read(buf, 0, CHUNK, 0);
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl >= 0 && nl < bytesRead; nl = buf.indexOf(0x0a, start)) {
    const e = parseLogLine(buf.subarray(start, nl));
    if (e) return e.timeNs;
    start = nl + 1;
  }
  return undefined;
}

async function stillNamed(paths: string[], opened: (LogHandle | undefined)[]): Promise<boolean> {
  for (let i = 0; i < paths.length; i++) {
    const st = await statIfExists(paths[i]);
    const h = opened[i];
    if (st === undefined ? h !== undefined : !sameFile(st, h)) return false;
  }
  return true;
}

async function closeAll(handles: (LogHandle | undefined)[]): Promise<void> {
  for (const h of handles) await h?.fh.close();
}

async function statIfExists(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.stat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * One pending wake-up at a time: a directory event, the poll timer or an
 * abort. An event that arrives while the follower is reading is remembered,
 * so the next wait returns at once and no append is missed.
 */
class Wakeup {
  private watcher: fs.FSWatcher | undefined;
  private pending = false;
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.fire();

  constructor(
    dir: string,
    private readonly pollMs: number,
    private readonly signal: AbortSignal,
  ) {
    try {
      this.watcher = fs.watch(dir, { persistent: false }, () => this.fire());
      this.watcher.on('error', () => this.stopWatching()); // e.g. the directory was removed: polling goes on
    } catch {
      this.watcher = undefined; // no directory yet, or no inotify: poll only
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  wait(): Promise<void> {
    if (this.pending || this.signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => this.fire(), this.pollMs);
    });
  }

  close(): void {
    this.stopWatching();
    this.signal.removeEventListener('abort', this.onAbort);
    this.fire();
  }

  private fire(): void {
    const resolve = this.resolve;
    if (!resolve) {
      this.pending = true;
      return;
    }
    this.resolve = undefined;
    clearTimeout(this.timer);
    resolve();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
