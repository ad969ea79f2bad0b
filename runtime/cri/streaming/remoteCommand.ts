/**
 * Exec and attach behind the streaming server, whatever the protocol
 * (spdyServe.ts, wsServe.ts): the transport gives the client's stdin,
 * resizes and departure; the command gives output and, at the end, its
 * outcome. Each command lives on its own: nothing here waits on another.
 *
 * A client that goes away: its output is dropped (still read, so the
 * process never blocks on a full pipe), its stdin is closed, and an exec
 * on a TTY gets SIGHUP as a hung-up terminal's process does. Stdin and
 * resizes are applied in the order they came.
 */
import type { Ctx } from '../../context';
import type { Logger } from '../../util/log';
import type { CommandOutcome, TerminalSize } from './protocol';
import type { CommandRequest, StreamedAttach, StreamedProcess, StreamingRuntime } from './streaming';

/** The transport's side: where output goes, and how the end is told. */
export interface CommandTransport {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Resolves once the client has taken most of what was written (at once when it is gone): the output's backpressure. */
  drained(): Promise<void>;
  /** Writes the outcome on the error stream and ends the connection. */
  finish(outcome: CommandOutcome): void;
}

/** The command's side, called by the transport. */
export interface CommandControl {
  stdin(data: Buffer): void;
  stdinEnd(): void;
  resize(size: TerminalSize): void;
  /** The client went away. */
  gone(): void;
}

type Target = { readonly kind: 'exec'; readonly p: StreamedProcess } | { readonly kind: 'attach'; readonly a: StreamedAttach };

export function runCommand(
  ctx: Ctx,
  runtime: StreamingRuntime,
  request: CommandRequest,
  transport: CommandTransport,
  log: Logger,
): CommandControl {
  let target: Target | undefined;
  let isGone = false;
  let stdinClosed = false;
  // Stdin writes and resizes, in order; each waits for the one before (and for the start).
  let chain: Promise<unknown>;
  const step = (fn: (t: Target) => Promise<unknown> | void) => {
    chain = chain.then(() => (target ? fn(target) : undefined)).catch(() => undefined);
  };
  // An attach's end of stdin is a half-close of conmon's attach socket: conmon closes the container's stdin only
  // for a stdin_once container (without --leave-stdin-open), so one that keeps stdin open for the next attach stays open.
  const closeStdin = () => {
    if (stdinClosed || !request.stdin) return;
    stdinClosed = true;
    step((t) => (t.kind === 'exec' ? t.p.closeStdin() : t.a.closeStdin()));
  };

  const started = (async (): Promise<Target> => {
    if (request.kind === 'exec') {
      return {
        kind: 'exec',
        p: await runtime.exec(ctx, request.containerId, { args: request.cmd, tty: request.tty, stdin: request.stdin }),
      };
    }
    return { kind: 'attach', a: await runtime.attach(ctx, request.containerId, { stdin: request.stdin }) };
  })();
  chain = started.then(
    (t) => {
      target = t;
    },
    () => undefined,
  );

  void (async () => {
    let outcome: CommandOutcome;
    try {
      const t = await started;
      if (isGone) hangUp(t);
      const output = t.kind === 'exec' ? t.p.output : t.a.output;
      for await (const frame of output) {
        if (isGone) continue;
        if (frame.stream === 'stderr' && !request.tty) {
          if (request.stderr) transport.stderr(frame.data);
        } else if (request.stdout) transport.stdout(frame.data);
        // A slow client holds the process's output back instead of growing our buffers.
        await transport.drained();
      }
      outcome = t.kind === 'exec' ? { exitCode: await t.p.wait() } : { exitCode: 0 };
      if (t.kind === 'attach') t.a.close();
    } catch (e) {
      outcome = { error: (e as Error).message };
      log.debug('CRI stream: command failed', { kind: request.kind, container: request.containerId, error: (e as Error).message });
    }
    if (!isGone) transport.finish(outcome);
  })();

  function hangUp(t: Target): void {
    if (t.kind === 'attach') {
      t.a.close();
      return;
    }
    closeStdin();
    if (request.tty) t.p.kill('SIGHUP');
  }

  return {
    stdin: (data) => {
      if (!request.stdin || stdinClosed || !data.length) return;
      step((t) => (t.kind === 'exec' ? t.p.write(data) : t.a.write(data)));
    },
    stdinEnd: closeStdin,
    resize: ({ rows, cols }) => {
      if (!request.tty) return;
      step((t) => (t.kind === 'exec' ? t.p.resize(rows, cols) : t.a.resize(rows, cols)));
    },
    gone: () => {
      if (isGone) return;
      isGone = true;
      if (target) hangUp(target);
    },
  };
}
