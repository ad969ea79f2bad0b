/**
 * Joins the CLI's own stdio to an attach or exec session: output frames go
 * to stdout/stderr (waiting for 'drain', so a slow pipe slows the container's
 * stream instead of buffering it here), stdin bytes go up the call, and with
 * a TTY the local terminal is put in raw mode (Ctrl-C goes to the container,
 * as with `docker run -it`) and its size follows SIGWINCH.
 *
 * Lifecycle: `pumpSession` resolves when the daemon ends the call; the exit
 * code is the last message's when there was one. Whatever it set up (raw
 * mode, listeners, the stdin stream) is undone before it returns or throws.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { failedPrecondition } from '../errdefs/errdefs';
import { stdioMessages, type AttachResponse, type ExecResponse } from '../client';

/** What both StdioSession kinds offer (runtime/client/containersApi.ts). */
export interface SessionLike<Res> {
  responses(): AsyncGenerator<Res>;
  sendStdin(data: Uint8Array): boolean;
  resize(rows: number, cols: number): void;
  closeStdin(): void;
}

/** process.stdin's shape, narrowed to what is used. */
export interface InputStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  destroy?(): unknown;
}

export interface StdioOptions {
  stdout: Writable;
  stderr: Writable;
  /** Forwarded when given (-i); its end closes the container's stdin. */
  stdin?: InputStream;
  /** The session has a TTY (-t): raw mode and resizes when the local side is a terminal too. */
  tty: boolean;
  /** Send the terminal's size once at the start too (attach: the container's TTY has none yet; exec passes it in ExecStart). */
  sendInitialSize?: boolean;
}

/** Docker refuses -it when stdin is a pipe or file: raw mode and resizes would mean nothing, and the bytes would be mangled by the pty. */
export function requireTerminalInput(stdin: InputStream): void {
  if (!stdin.isTTY) throw failedPrecondition('the input device is not a TTY; leave out -t, or -i, when stdin is redirected');
}

export async function pumpSession(session: SessionLike<AttachResponse | ExecResponse>, opts: StdioOptions): Promise<number | undefined> {
  const undo: (() => void)[] = [];
  try {
    if (opts.stdin) forwardStdin(session, opts.stdin, opts.tty, undo);
    if (opts.tty) followSize(session, opts.stdout, opts.sendInitialSize ?? true, undo);
    let exitCode: number | undefined;
    for await (const message of stdioMessages(session)) {
      if ('output' in message) {
        const out = message.stream === 'stderr' ? opts.stderr : opts.stdout;
        if (!out.write(message.output)) await once(out, 'drain');
      } else if ('exitCode' in message) {
        exitCode = message.exitCode;
      }
    }
    return exitCode;
  } finally {
    for (const fn of undo.reverse()) fn();
  }
}

function forwardStdin(session: SessionLike<unknown>, stdin: InputStream, tty: boolean, undo: (() => void)[]): void {
  if (tty && stdin.isTTY && stdin.setRawMode) {
    stdin.setRawMode(true);
    undo.push(() => stdin.setRawMode!(false));
  }
  const onData = (chunk: Buffer | string) => {
    session.sendStdin(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  };
  const onEnd = () => session.closeStdin();
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.resume();
  undo.push(() => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    // A pipe or file would otherwise keep the process alive after the session.
    if (!stdin.isTTY) stdin.destroy?.();
  });
}

function followSize(session: SessionLike<unknown>, stdout: Writable, initial: boolean, undo: (() => void)[]): void {
  const terminal = stdout as Writable & { isTTY?: boolean; rows?: number; columns?: number };
  if (!terminal.isTTY) return;
  const send = () => {
    if (terminal.rows && terminal.columns) session.resize(terminal.rows, terminal.columns);
  };
  if (initial) send();
  // Node turns SIGWINCH into 'resize' on a TTY stdout.
  terminal.on('resize', send);
  undo.push(() => terminal.off('resize', send));
}
