/**
 * Container logs: conmon's k8s-file log (format in logs/format.ts), read back
 * the way `docker logs` shows it.
 *
 * Files and rotation (the decision). The live file is
 * `<root>/containers/<id>/container.log`. gantryd rotates it itself and keeps
 * one previous file, `container.log.1` (LogRotator, logs/rotate.ts). When the live
 * file reaches the size limit: `rename(log, log.1)` (dropping the older `.1`),
 * then send conmon exactly one reopen message (`2 0 0\n` on `<bundle>/ctl`).
 * Until conmon handles it, it keeps writing into the renamed file (same inode),
 * so nothing is lost. Then it closes that file and creates a fresh
 * `container.log` (`.tmp` + rename). conmon's own `--log-size-max` is not the
 * rotation: when it trips, conmon renames a new empty file over the log, and
 * the old content is gone (docs/conmon.md §9). `docker logs` would then lose its
 * history at every rotation. It is still worth passing at a much larger cap
 * (say 4 × the limit) as a backstop for when gantryd is down and nobody
 * rotates. The reader copes with that replacement like any other.
 *
 * Reading. `readLogs` returns whole lines. Partial chunks are joined per stream
 * (as `docker logs` and `podman logs` show them), and a joined line carries the
 * time of its last chunk (as podman does). History is read from the open files,
 * oldest first. `tail` reads backwards in chunks from the end, so `--tail 10`
 * of a 100 MB log touches a few KiB. Following then continues from where the
 * history ended: logs/follow.ts covers rotation, truncation and restarts, and
 * its one loss. A follower more than `keep` whole files behind the writer
 * misses the files that were rotated away before it got to them.
 * While following, a line still incomplete when the file goes quiet (a prompt)
 * is emitted as it is, with `partial: true`; the rest of it comes later as a
 * separate entry. Printing `lineBytes(e)` (the data, plus a newline unless
 * partial) gives the exact bytes either way.
 */
import type { Ctx } from '../../context';
import { invalidArgument } from '../../errdefs/errdefs';
import { LogEntry, LogStream, parseLogLine, timeNsOf } from './format';
import { ReadCounter, openLog, OpenLog, LineCursor, linesBackward, sameFile } from './logFile';
import { PartialJoiner, TailSelector } from './lines';
import { followLog, IDLE, FollowOptions } from './follow';

export type { LogEntry, LogStream } from './format';
export { formatTimestamp, lineBytes, parseLogLine, parseTimestamp } from './format';
export type { FollowOptions } from './follow';
export { stopWhenGone } from './follow';
export type { ReadCounter } from './logFile';

/** The live log and the rotated ones, newest first (`[<path>.1]`). */
export interface LogFiles {
  readonly path: string;
  readonly rotated: readonly string[];
}

export interface ReadLogsOptions {
  /** Only the last N whole lines (of those selected by streams/since/until), across rotated files. 0 = none; unset or negative = all. */
  readonly tail?: number;
  /** Which streams; default both. */
  readonly streams?: readonly LogStream[];
  /** Lines written at or after this time. */
  readonly since?: Date;
  /** Lines written at or before this time. While following, the first later line (or the clock passing it) ends the stream. */
  readonly until?: Date;
  /** Keep reading new lines after the history; unset = stop at the end of what is there now. */
  readonly follow?: FollowOptions;
  /** Incremented by every byte read from disk (for tests and metrics). */
  readonly counter?: ReadCounter;
}

/** `{path, rotated: [path.1 … path.keep]}`, the files a LogRotator with `keep` maintains. */
export function logFiles(path: string, keep = 1): LogFiles {
  return { path, rotated: Array.from({ length: keep }, (_, i) => `${path}.${i + 1}`) };
}

/**
 * The container's log as whole lines: the history selected by tail/since/until,
 * then (with `follow`) new lines until `follow.shouldStop()` says so when the
 * file is idle, or `ctx.signal` aborts (the stream then just ends). Breaking
 * out of the loop closes every file. A missing log is an empty history; a
 * follower waits for it to appear. Malformed lines are skipped.
 */
export async function* readLogs(ctx: Ctx, files: LogFiles, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const { tail, counter } = opts;
  if (tail !== undefined && !Number.isInteger(tail)) throw invalidArgument(`tail must be a whole number, not ${tail}`);
  const sinceNs = opts.since ? timeNsOf(opts.since, 'since') : undefined;
  const untilNs = opts.until ? timeNsOf(opts.until, 'until') + 999_999n : undefined;
  const streams = new Set(opts.streams ?? ['stdout', 'stderr']);
  const inWindow = (e: LogEntry) =>
    streams.has(e.stream) && (sinceNs === undefined || e.timeNs >= sinceNs) && (untilNs === undefined || e.timeNs <= untilNs);

  // The live file first, then the rotated ones: a rotation in between makes a
  // rotated path name the file already open as live (same inode), skipped
  // here. Held fds keep each file readable even if a later rotation deletes it.
  const opened: OpenLog[] = []; // newest first
  try {
    for (const p of [files.path, ...files.rotated]) {
      const log = await openLog(p, counter);
      if (!log) continue;
      if (opened.some((o) => sameFile(o, log))) await log.fh.close();
      else opened.push(log);
    }
    const joiner = new PartialJoiner();

    if (tail !== undefined && tail >= 0) {
      const selector = new TailSelector(tail, inWindow);
      scan: for (const log of opened) {
        if (selector.done) break;
        for await (const raw of linesBackward(log.fh, log.end, counter)) {
          const e = parseLogLine(raw);
          if (e && !selector.offer(e)) break scan;
        }
      }
      for (const e of selector.entries()) {
        const line = joiner.push(e);
        if (line) yield line;
      }
    } else {
      for (const log of [...opened].reverse()) {
        const cursor = new LineCursor(log.fh, 0, counter);
        for await (const raw of cursor.lines(log.end)) {
          const e = parseLogLine(raw);
          const line = e && joiner.push(e);
          if (line && inWindow(line)) yield line;
        }
      }
    }

    if (!opts.follow || ctx.signal.aborted) {
      for (const line of joiner.flush()) if (inWindow(line)) yield line;
      return;
    }

    // Follow the newest file from where its history ended; older ones are done.
    const lastNs = await lastEntryNs(opened, counter);
    const newest = opened.shift();
    for (const log of opened.splice(0)) await log.fh.close();
    const follower = followLog(ctx, files, newest && { log: newest, offset: newest.end, lastNs }, opts.follow, counter);
    let idleRounds = 0;
    for await (const item of follower) {
      if (item === IDLE) {
        // A line still incomplete after a second quiet round is a prompt or
        // a progress bar: show it now rather than when its newline comes.
        if (++idleRounds >= 2) for (const line of joiner.flush()) if (inWindow(line)) yield line;
        if (untilNs !== undefined && BigInt(Date.now()) * 1_000_000n > untilNs) return;
        continue;
      }
      idleRounds = 0;
      const line = joiner.push(item);
      if (!line) continue;
      if (untilNs !== undefined && line.timeNs > untilNs) return;
      if (inWindow(line)) yield line;
    }
    for (const line of joiner.flush()) if (inWindow(line)) yield line;
  } finally {
    for (const log of opened) await log.fh.close().catch(() => undefined);
  }
}

/** Time of the newest entry in the files (newest first), reading backwards from their ends. */
async function lastEntryNs(logs: OpenLog[], counter?: ReadCounter): Promise<bigint | undefined> {
  for (const log of logs) {
    for await (const raw of linesBackward(log.fh, log.end, counter)) {
      const e = parseLogLine(raw);
      if (e) return e.timeNs;
    }
  }
  return undefined;
}
