/**
 * Exec: run another process inside a running container.
 *
 * Two ways, chosen by `tty` (see the files for the protocols):
 *   - no TTY: `runc exec` as gantryd's child, stdout and stderr on separate
 *     pipes (exec/pipeExec.ts) — what CRI-O does for streaming execs;
 *   - TTY: a conmon of its own that holds the pty, serves it on an attach
 *     socket and resizes it (exec/ttyExec.ts) — what podman does.
 *
 * Lifecycle. `exec()` creates `sessionDir`, writes the process spec (the
 * container's process from its config.json with the exec's args, env, user,
 * cwd), starts the process and resolves once it runs, with its pid. If it
 * cannot start — a missing binary, a stopped container — it rejects
 * (InvalidArgument with runc's reason, e.g. `exec: "/nope": stat /nope: no
 * such file or directory`; FailedPrecondition/NotFound for the container)
 * and leaves nothing behind. Afterwards the session removes its dir once the
 * process exited and its output was drained; `wait()` gives the exit code.
 * Aborting `ctx` at any point SIGKILLs the process. TTY execs need the
 * node-unix-socket addon (seqpacket.ts); without its binary they fail with
 * FailedPrecondition before anything starts, plain execs work regardless.
 *
 * `execCapture` is the health-check form: no TTY, no stdin, stdout and
 * stderr together, the first `maxOutputBytes` kept, SIGKILLed after
 * `timeoutMs` and then reported as timed out with exit code -1 (Docker's
 * convention).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../../context';
import { errorOf, invalidArgument } from '../../errdefs/errdefs';
import { execConmon } from './ttyExec';
import { execRunc } from './pipeExec';
import { makeSessionDir, removeSessionDir, type ExecOptions, type ExecSession } from './session';
import { execProcessSpec } from './processSpec';
import { loadSeqpacket } from '../seqpacket';

export type { ExecOptions, ExecSession } from './session';
export type { ExecUser } from './processSpec';

export async function exec(ctx: Ctx, opts: ExecOptions): Promise<ExecSession> {
  if (!path.isAbsolute(opts.sessionDir)) throw invalidArgument(`exec: session dir ${opts.sessionDir} is not absolute`);
  const proc = await execProcessSpec(opts.bundle, {
    args: opts.args,
    env: opts.env,
    user: opts.user,
    cwd: opts.cwd,
    tty: opts.tty,
    consoleSize: opts.consoleSize,
  });
  // Before anything is started: a host without the addon's binary refuses
  // TTY execs up front (plain execs need no addon).
  if (opts.tty) loadSeqpacket('exec with a TTY');
  ctx.signal.throwIfAborted();
  await makeSessionDir(opts.sessionDir);
  const processFile = path.join(opts.sessionDir, 'process.json');
  try {
    await fs.promises.writeFile(processFile, JSON.stringify(proc));
  } catch (e) {
    await removeSessionDir(opts.sessionDir);
    throw e;
  }
  // Both remove the session dir themselves when the start fails.
  return opts.tty ? execConmon(ctx, opts, processFile) : execRunc(ctx, opts, processFile);
}

export interface ExecCaptureOptions extends Omit<ExecOptions, 'tty' | 'stdin' | 'consoleSize'> {
  readonly timeoutMs: number;
  /** Output kept (Docker's health checks keep 4096 bytes). */
  readonly maxOutputBytes: number;
}

export interface ExecCaptureResult {
  /** The process's exit code; -1 when it timed out. */
  readonly exitCode: number;
  /** stdout and stderr in arrival order, cut to maxOutputBytes (UTF-8, invalid bytes replaced). */
  readonly output: string;
  readonly truncated: boolean;
  readonly timedOut: boolean;
}

export async function execCapture(ctx: Ctx, opts: ExecCaptureOptions): Promise<ExecCaptureResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  let session: ExecSession;
  try {
    session = await exec({ ...ctx, signal }, { ...opts, tty: false, stdin: false });
  } catch (e) {
    if (timeout.aborted && !ctx.signal.aborted) return { exitCode: -1, output: '', truncated: false, timedOut: true };
    throw e;
  }
  const kept: Buffer[] = [];
  let size = 0;
  let truncated = false;
  // Read to the end (so the process never blocks on a full pipe), keep the head.
  for await (const frame of session) {
    const room = opts.maxOutputBytes - size;
    if (room <= 0) {
      truncated ||= frame.data.length > 0;
      continue;
    }
    const part = frame.data.length > room ? frame.data.subarray(0, room) : frame.data;
    truncated ||= part.length < frame.data.length;
    kept.push(part);
    size += part.length;
  }
  const exitCode = await session.wait();
  if (ctx.signal.aborted) throw errorOf('Cancelled')('exec: cancelled', ctx.signal.reason);
  const output = Buffer.concat(kept).toString('utf8');
  if (timeout.aborted && !ctx.signal.aborted) return { exitCode: -1, output, truncated, timedOut: true };
  return { exitCode, output, truncated, timedOut: false };
}
