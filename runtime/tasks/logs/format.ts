/**
 * The k8s-file log format conmon writes (docs/conmon.md §4), one entry per line:
 *
 *     <RFC3339Nano local time, 9-digit ns, ±hh:mm> <stdout|stderr> <F|P> <raw bytes>\n
 *
 * `F` ends a line; `P` is a chunk of a line that the next entry of the same
 * stream continues. Parsing only: reading files is logs/logFile.ts, and turning
 * entries into lines logs/lines.ts.
 */
import { invalidArgument } from '../../errdefs/errdefs';

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

/** A Date as nanoseconds since the epoch; InvalidArgument for an invalid Date (`what` names it). */
export function timeNsOf(d: Date, what: string): bigint {
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
