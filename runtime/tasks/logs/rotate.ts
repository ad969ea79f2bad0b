/**
 * Size-based rotation of a container log, done by gantryd so that one (or
 * `keep`) previous file survives — see the decision in logs.ts.
 *
 * Rotation: `log.(k-1)` → `log.k` … `log` → `log.1` (each rename replaces the
 * older file atomically), then `reopen()` asks conmon to open a fresh `log`
 * (`2 0 0\n` on the bundle's ctl fifo). Until conmon handles it, it appends to
 * the renamed file (same inode), so no line is lost; readers holding an fd on
 * it keep reading it to the end (logs/follow.ts).
 *
 * Lifecycle: one LogRotator per running container, owned by whoever owns the
 * task; `start(intervalMs)` checks on a timer, `check()` can also be called on
 * demand (e.g. from a watch). Checks are serialised. `close()` stops the timer
 * and is idempotent; a check in flight finishes.
 *
 * Bounds: the files hold at most (keep + 1) × maxBytes plus what the container
 * writes between two checks. A reopen that fails (conmon gone) leaves no live
 * file until a new conmon creates it when the container starts again.
 *
 * Exactly one reopen per rename: conmon's reopen always creates a new file
 * (`.tmp`, renamed over the live path), so a reopen without a rename before
 * it discards the live file's content (docs/conmon.md §9). The reopen callback
 * should treat "conmon gone" as success: ENXIO opening the ctl fifo, and
 * EPIPE writing it (conmon closed it while exiting; seen in tests).
 */
import * as fs from 'node:fs';
import { invalidArgument } from '../../errdefs/errdefs';
import { silentLogger, type Logger } from '../../util/log';

/** A sensible default limit for the live file. */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

export interface LogRotatorOptions {
  /** The live log. */
  readonly path: string;
  /** Rotate once the live file is at least this big. */
  readonly maxBytes: number;
  /** Rotated files kept (`.1` … `.keep`); default 1. */
  readonly keep?: number;
  /** Makes conmon open a fresh log file; should resolve quietly when no conmon runs. */
  readonly reopen: () => Promise<void>;
  readonly logger?: Logger;
}

export class LogRotator {
  private readonly keep: number;
  private readonly logger: Logger;
  private running: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: LogRotatorOptions) {
    this.keep = opts.keep ?? 1;
    if (!Number.isInteger(this.keep) || this.keep < 1) throw invalidArgument(`log rotation must keep at least one file, not ${opts.keep}`);
    if (!(opts.maxBytes > 0)) throw invalidArgument(`log size limit must be positive, not ${opts.maxBytes}`);
    this.logger = opts.logger ?? silentLogger;
  }

  /** Rotates if the live file is at least maxBytes; resolves true if it did. */
  check(): Promise<boolean> {
    // Serialised: a second caller waits for the check in flight, then checks again.
    const next = (this.running ?? Promise.resolve(false)).catch(() => false).then(() => this.checkOnce());
    this.running = next;
    return next;
  }

  /** Checks every `intervalMs` until close(); failures are logged, not thrown. */
  start(intervalMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => {
      this.check().catch((e) => this.logger.warn('log rotation failed', { path: this.opts.path, err: e }));
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async checkOnce(): Promise<boolean> {
    const { path, maxBytes } = this.opts;
    // No live file: rotated and conmon has not reopened yet, or is gone.
    // Never "retry" the reopen here: one that arrives after conmon has
    // already made a fresh file replaces that file, and its lines are lost.
    const size = await sizeOf(path);
    if (size === undefined || size < maxBytes) return false;
    await rotateLog(path, this.keep, this.opts.reopen);
    this.logger.debug('log rotated', { path, size });
    return true;
  }
}

/** Shifts `path.1…` up (dropping the oldest beyond `keep`), renames `path` to `path.1`, then reopens. */
export async function rotateLog(path: string, keep: number, reopen: () => Promise<void>): Promise<void> {
  for (let i = keep - 1; i >= 1; i--) {
    await fs.promises.rename(`${path}.${i}`, `${path}.${i + 1}`).catch(ignoreMissing);
  }
  await fs.promises.rename(path, `${path}.1`);
  await reopen();
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    return (await fs.promises.stat(p)).size;
  } catch (e) {
    ignoreMissing(e);
    return undefined;
  }
}

function ignoreMissing(e: unknown): void {
  if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
}
