/**
 * Following a container log (`logs -f`): new lines as they are written,
 * through rotations, truncations and restarts, until the caller says stop.
 *
 * The follower holds an fd on the file it reads, and compares it with what
 * the path names now:
 * - Same file, grown: read the new lines.
 * - Same file, smaller than what was read: truncated; start again at 0.
 * - Another file with data in it (rotated by gantryd, or replaced by conmon's
 *   own --log-size-max / reopen): read the old fd to its end, then switch to
 *   the new file at offset 0. The old fd is drained once more after the new
 *   file is seen non-empty, because conmon writes into the renamed file until
 *   it handles the reopen and only then into the new one: once the new file
 *   has data, the old one is final.
 *   If the follower fell more than one rotation behind, the rotated files
 *   newer than the one it held are read in between (a file rotated out of
 *   existence before the follower got to it is gone, with its lines).
 * - Another file that is still empty, or no file: keep reading the old fd
 *   (conmon may not have reopened yet) and wait.
 * A restarted container gets a new conmon that appends to the same path, so a
 * restart is just more data (or a new file, if it was rotated meanwhile).
 *
 * Waking up: an fs.watch on the log's directory (it sees appends, the rename
 * and the new file, including writes to the renamed `.1` in the same
 * directory), with a poll every `pollMs` as the fallback for missed or
 * unsupported events. Nothing spins: between wake-ups the follower sleeps.
 *
 * Stopping: only when idle (everything available has been read), the
 * follower asks `shouldStop()`. On true it drains once more (bytes written
 * just before the exit) and ends. `stopWhenGone` builds the usual policy:
 * removed → stop; not running for longer than a grace → stop (the grace spans
 * a restart by the restart policy, and the last output landing after the
 * exit is noticed). An aborted ctx ends the stream at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { LineCursor, OpenLog, ReadCounter, openLog } from './logfile';
import type { LogFiles } from './logs';

export interface FollowOptions {
  /** Asked each time the follower has read everything and is about to wait. */
  readonly shouldStop: () => boolean | Promise<boolean>;
  /** Fallback poll (and the cadence of shouldStop checks) in ms; default 500. */
  readonly pollMs?: number;
}

/** Yielded (instead of a line) each time the follower has read everything and will wait. */
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
  log: OpenLog;
  cursor: LineCursor;
}

/**
 * Lines appended to `files.path` from `start` on (or from the beginning of the
 * file once it appears), with IDLE markers between bursts. Closes every fd it
 * holds, including `start.log.fh`, when it ends or the consumer stops.
 */
export async function* followLog(
  ctx: Ctx,
  files: LogFiles,
  start: { log: OpenLog; offset: number } | undefined,
  opts: FollowOptions,
  counter?: ReadCounter,
): AsyncGenerator<Buffer | typeof IDLE> {
  let cur: Current | undefined = start && { log: start.log, cursor: new LineCursor(start.log.fh, start.offset, counter) };
  const wake = new Wakeup(path.dirname(files.path), opts.pollMs ?? DEFAULT_POLL_MS, ctx.signal);

  // Reads everything available, following switches; returns whether anything was read.
  async function* pump(): AsyncGenerator<Buffer, boolean> {
    let any = false;
    for (;;) {
      if (cur) {
        for await (const line of cur.cursor.lines()) {
          any = true;
          yield line;
        }
      }
      const change = await checkPath();
      if (change === 'none') return any;
      if (change === 'truncated') {
        cur!.cursor.reset();
        continue;
      }
      const next = await openLog(files.path, counter);
      if (!next) continue; // renamed away again between stat and open
      try {
        if (cur) {
          for await (const line of cur.cursor.lines()) {
            any = true;
            yield line;
          }
        }
        // A follower that fell more than one rotation behind: the files
        // rotated after the one it held come before the new live file.
        for (const between of await rotatedSince(files, cur?.log, next, counter)) {
          try {
            for await (const line of new LineCursor(between.fh, 0, counter).lines()) {
              any = true;
              yield line;
            }
          } finally {
            await between.fh.close();
          }
        }
      } catch (e) {
        await next.fh.close();
        throw e;
      }
      await cur?.log.fh.close();
      cur = { log: next, cursor: new LineCursor(next.fh, 0, counter) };
    }
  }

  async function checkPath(): Promise<'none' | 'truncated' | 'switch'> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(files.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw e;
    }
    if (!cur) return 'switch';
    if (st.dev === cur.log.dev && st.ino === cur.log.ino) return st.size < cur.cursor.position ? 'truncated' : 'none';
    return st.size > 0 ? 'switch' : 'none';
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

/**
 * The rotated files newer than `held`, oldest first, opened: all of them when
 * `held` is no longer among them (each was rotated after it) or nothing is
 * held. `live` (just opened at the path) and `held` themselves are excluded.
 */
async function rotatedSince(files: LogFiles, held: OpenLog | undefined, live: OpenLog, counter?: ReadCounter): Promise<OpenLog[]> {
  const same = (a: OpenLog, b: OpenLog | undefined) => b !== undefined && a.dev === b.dev && a.ino === b.ino;
  const chain: OpenLog[] = [];
  for (const p of [...files.rotated].reverse()) {
    const log = await openLog(p, counter);
    if (!log) continue;
    if (same(log, held)) {
      // Everything rotated before the held file is older than what was read.
      for (const older of chain.splice(0)) await older.fh.close();
      await log.fh.close();
    } else if (same(log, live) || chain.some((c) => same(log, c))) {
      await log.fh.close();
    } else {
      chain.push(log);
    }
  }
  return chain;
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
