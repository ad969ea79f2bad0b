/**
 * What every exec session is and owns, whichever way it runs (exec/pipeExec.ts
 * for plain pipes, exec/ttyExec.ts for a TTY).
 *
 * A session owns its session dir (process.json, pid file, runc log, conmon's
 * files) from start to finish: `exec()` creates it and the session removes
 * it once the process has exited and its output is drained — whether or not
 * anyone calls wait(). A failed start removes it before rejecting.
 */
import { processStartError } from '../startErrors';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { alreadyExists, failedPrecondition, notFound, type GantryError } from '../../errdefs/errdefs';
import type { FrameStream, OutputFrame } from '../frames';
import type { ExecProcessOptions } from './processSpec';

export interface ExecOptions extends Omit<ExecProcessOptions, 'consoleSize'> {
  /** The runc container ID. */
  readonly containerId: string;
  /** The container's bundle: its config.json's process is the base of the exec's. */
  readonly bundle: string;
  /** runc binary (absolute, or looked up on PATH). */
  readonly runcPath: string;
  /** conmon binary, used for TTY execs. */
  readonly conmonPath: string;
  /** runc's --root, as used for the container. */
  readonly runcRoot: string;
  /** Private to this exec; must not exist yet; removed when the session ends. Keep it short (conmon sockets live in it). */
  readonly sessionDir: string;
  /** Attach stdin: write()/closeStdin() are allowed. Without it the process reads /dev/null (no TTY) or nothing (TTY). */
  readonly stdin: boolean;
  /** Initial TTY size; default 24×80. */
  readonly consoleSize?: { readonly rows: number; readonly cols: number };
}

export interface ExecSession extends AsyncIterable<OutputFrame> {
  /** Host pid of the exec'd process. */
  readonly pid: number;
  readonly tty: boolean;
  /** stdout/stderr frames (all 'stdout' on a TTY); ends when the process's output is drained. */
  readonly output: FrameStream;
  /** Sends input; resolves when accepted (awaiting it is the backpressure). FailedPrecondition without stdin or after closeStdin. */
  write(data: Buffer | string): Promise<void>;
  /**
   * No more input. Without a TTY the process reads EOF. On a TTY nothing
   * changes for the process (the pty stays open: send "\x04" for EOF).
   */
  closeStdin(): Promise<void>;
  /** TTY only (FailedPrecondition otherwise); a no-op once the process exited. */
  resize(rows: number, cols: number): Promise<void>;
  /** Signals the process (default SIGKILL); a no-op once it exited. */
  kill(signal?: NodeJS.Signals | number): void;
  /**
   * The exit code (128+n for signal n), once the process exited, its output
   * was drained and the session dir removed. Rejects only when the code is
   * unknowable (conmon died).
   */
  wait(): Promise<number>;
}

/** Creates the session dir; AlreadyExists if it is there (two sessions must never share one). */
export async function makeSessionDir(dir: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.promises.mkdir(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(`exec: session dir ${dir} already exists`);
    throw e;
  }
}

export async function removeSessionDir(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true });
}

/**
 * The error for an exec that did not start, from runc's own message.
 * runc exits 1/255 for every failure and says why only in prose, so this is
 * the one place that reads the prose: "unable to start container process"
 * means the command itself cannot run (InvalidArgument, e.g. a missing
 * binary), "does not exist" a missing container (NotFound); anything else
 * is a container that cannot take an exec now (FailedPrecondition).
 */
export function execStartError(runcMessage: string): GantryError {
  const msg = runcMessage.trim().replace(/^exec failed: /, '') || 'runc exec failed without a message';
  const START = 'unable to start container process: ';
  const at = msg.indexOf(START);
  if (at >= 0) return processStartError(msg.slice(at + START.length));
  if (/does not exist/.test(msg)) return notFound(`exec: ${msg}`);
  return failedPrecondition(`exec: ${msg}`);
}

/**
 * runc's error text from its `--log-format json` output (one JSON object a
 * line; the last `error` wins), falling back to the raw text.
 */
export function runcErrorMessage(text: string): string {
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const rec = JSON.parse(trimmed) as { level?: string; msg?: string };
      if ((rec.level === 'error' || rec.level === 'fatal') && rec.msg) found = rec.msg;
    } catch {
      // not JSON
    }
  }
  return found ?? text.trim();
}

/** Exit code in the shell's convention: 128+n for death by signal n. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? os.constants.signals[signal] : undefined;
  return 128 + (n ?? 0);
}

/** process.kill that ignores a process already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals | number): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}
