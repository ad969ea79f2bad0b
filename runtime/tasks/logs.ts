/**
 * Container logs: conmon's k8s-file log, read back the way `docker logs` shows it.
 *
 * Format (CONMON.md §3). conmon writes one entry per line:
 *
 *     <RFC3339Nano local time, 9-digit ns, ±hh:mm> <stdout|stderr> <F|P> <raw bytes>\n
 *
 * `F` ends a line. `P` is a chunk of a line that the next entry *of the same
 * stream* continues: a write without a newline (`printf 'Name: '`), or a long
 * line cut at conmon's 8192-byte reads. stdout and stderr come from separate
 * pipes, so a stdout `P` may be followed by stderr entries before its `F`.
 * The bytes are written raw (a TTY's `\r` stays), never contain `\n`, and an
 * empty line is `... stdout F ` with nothing after the last space.
 *
 * Files and rotation (the decision). The live file is
 * `<root>/containers/<id>/container.log`; gantryd rotates it itself, keeping one
 * previous file `container.log.1` (see `logrotate.ts`): when the live file
 * reaches the size limit, `rename(log, log.1)` (dropping the older `.1`) and
 * send conmon the reopen message (`2 0 0\n` on `<bundle>/ctl`). Until conmon
 * handles it, it keeps writing into the renamed file (same inode), so nothing
 * is lost; then it creates a fresh `container.log` (`.tmp` + rename). conmon's
 * own `--log-size-max` is not the rotation: when it trips, conmon renames a new
 * empty file over the log and the old content is gone (CONMON.md §8), so
 * `docker logs` would lose its history at every rotation. It is still worth
 * passing at a much larger cap (say 4 × the limit) as a backstop for when
 * gantryd is down and nobody rotates; the reader below copes with that
 * replacement like any other (a new inode at the path).
 *
 * Reading. `readLogs` returns whole lines: partial chunks are joined per stream
 * (as `docker logs` and `podman logs` show them), and a joined line carries the
 * time of its last chunk (as podman does). History is read from the open files,
 * oldest first; `tail` reads backwards in chunks from the end, so `--tail 10`
 * of a 100 MB log touches a few KiB. Following then continues from where the
 * history ended (see `logfollow.ts` for rotation, truncation and restarts).
 * While following, a line that is still incomplete when the file goes quiet
 * (a prompt) is emitted as it is with `partial: true`, and its rest later as a
 * separate entry: printing `data` plus a newline only when `!partial` gives
 * the exact bytes either way.
 */
import type { Ctx } from '../context';
import { invalidArgument } from '../errdefs/errdefs';
import { ReadCounter, openLog, OpenLog, LineCursor, linesBackward } from './logfile';
import { PartialJoiner, TailSelector } from './loglines';
import { followLog, IDLE, FollowOptions } from './logfollow';

export type { FollowOptions } from './logfollow';
export { stopWhenGone } from './logfollow';
export type { ReadCounter } from './logfile';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  /** When conmon read the bytes (millisecond precision; `timeNs` has the rest). */
  readonly time: Date;
  /** The same instant in nanoseconds since the epoch, exactly as written (for ordering and `-t` output). */
  readonly timeNs: bigint;
  readonly stream: LogStream;
  /** True when these bytes do not end a line (the line continues in a later entry, or never ended). */
  readonly partial: boolean;
  /** The bytes, without the line's newline. */
  readonly data: Buffer;
}

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

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch of an RFC 3339 timestamp with up to 9 fraction digits, or undefined. */
export function parseTimestamp(text: string): bigint | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  if (Number.isNaN(ms)) return undefined;
  const nanos = BigInt((m[7] ?? '').padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + nanos;
}

/** The bytes to print for an entry: its data, plus the newline unless it is partial. */
export function lineBytes(e: LogEntry): Buffer {
  return e.partial ? e.data : Buffer.concat([e.data, NEWLINE]);
}

const NEWLINE = Buffer.from('\n');

function timeNsOf(d: Date, what: string): bigint {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw invalidArgument(`${what} is not a valid time`);
  return BigInt(ms) * 1_000_000n;
}

/** RFC3339Nano in UTC with all 9 digits, as `docker logs -t` prints it. */
export function formatTimestamp(timeNs: bigint): string {
  const seconds = timeNs / 1_000_000_000n;
  const nanos = timeNs % 1_000_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString(); // 2026-11-28T12:33:18.000Z
  return `${iso.slice(0, 19)}.${nanos.toString().padStart(9, '0')}Z`;
}

/**
 * One k8s-file line (with or without its `\n`) → entry; undefined when the
 * line is not in the format (skipped by the reader). The data is copied, so the
 * input buffer can be reused. Tags may carry more `:`-separated fields (the CRI
 * format allows it); only the first, F or P, is used.
 */
export function parseLogLine(line: Buffer | string): LogEntry | undefined {
  const buf = typeof line === 'string' ? Buffer.from(line) : line;
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  const sp1 = buf.indexOf(0x20);
  if (sp1 <= 0 || sp1 > 64 || sp1 >= end) return undefined;
  const timeNs = parseTimestamp(buf.toString('latin1', 0, sp1));
  if (timeNs === undefined) return undefined;
  const sp2 = buf.indexOf(0x20, sp1 + 1);
  if (sp2 < 0 || sp2 >= end) return undefined;
  const stream = buf.toString('latin1', sp1 + 1, sp2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  let sp3 = buf.indexOf(0x20, sp2 + 1);
  if (sp3 < 0 || sp3 > end) sp3 = end; // "… stdout F" without the space before empty data
  const tag = buf.toString('latin1', sp2 + 1, sp3).split(':')[0];
  if (tag !== 'F' && tag !== 'P') return undefined;
  const data = Buffer.from(buf.subarray(Math.min(sp3 + 1, end), end));
  return { time: new Date(Number(timeNs / 1_000_000n)), timeNs, stream, partial: tag === 'P', data };
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
      if (opened.some((o) => o.dev === log.dev && o.ino === log.ino)) await log.fh.close();
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
    const newest = opened.shift();
    for (const log of opened.splice(0)) await log.fh.close();
    const follower = followLog(ctx, files, newest && { log: newest, offset: newest.end }, opts.follow, counter);
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
      const e = parseLogLine(item);
      const line = e && joiner.push(e);
      if (!line) continue;
      if (untilNs !== undefined && line.timeNs > untilNs) return;
      if (inWindow(line)) yield line;
    }
    for (const line of joiner.flush()) if (inWindow(line)) yield line;
  } finally {
    for (const log of opened) await log.fh.close().catch(() => undefined);
  }
}
