/**
 * A VS Code terminal joined to a process's stdio in a container: an exec
 * (Open Shell) or an attach (Run… attached). It is a Pseudoterminal, so the
 * bytes go through the daemon's gRPC session, never through a CLI.
 *
 * Lifecycle
 *   open(dimensions)   VS Code shows the terminal: the session is connected
 *                      (`connect`), with the terminal's size for a TTY
 *   handleInput        keystrokes → session stdin
 *   setDimensions      → session resize (the daemon resizes the pty)
 *   output             session output → the terminal (UTF-8 decoded across
 *                      chunks; LF → CRLF when there is no TTY to do it)
 *   exit code          the process ended: the terminal closes with that
 *                      code (Terminal.exitStatus.code); or, with
 *                      `holdOnExit`, it stays open with the output and a
 *                      line saying the code, and closes on a key press (as
 *                      VS Code's tasks do), without a code: a code would make
 *                      VS Code alert "The terminal process terminated with
 *                      exit code" (or "failed to launch" within its first
 *                      half second) over what the terminal already says
 *   close()            the user closed the terminal: the session is
 *                      cancelled (an exec's process is killed by the
 *                      daemon; an attach detaches, the container runs on)
 * A session that fails or ends without an exit code prints why and stays
 * open until a key is pressed, so the message can be read; unless
 * `onFailure` reports the failure itself: then the terminal just closes.
 * `exited` resolves with the exit code whichever way the terminal closes.
 */
import * as vscode from 'vscode';
import { describe } from '../../runtime/client';

/** What a session reports, whatever the call (exec or attach). */
export type StdioEvent = { readonly output: Uint8Array } | { readonly exitCode: number };

export interface StdioConnection {
  /** The session's events; ends when the call ends. */
  readonly events: AsyncIterable<StdioEvent>;
  sendStdin(data: Uint8Array): void;
  resize(rows: number, cols: number): void;
  cancel(): void;
}

export interface Dimensions {
  readonly rows: number;
  readonly columns: number;
}

export interface StdioTerminalOptions {
  /** Opens the session; called once, from open(). May reject (shown in the terminal). */
  readonly connect: (dimensions: Dimensions | undefined) => Promise<StdioConnection>;
  /** Whether the process has a TTY (which turns LF into CRLF itself). */
  readonly tty: boolean;
  /** Printed (dimmed) before anything else, e.g. what was run. */
  readonly banner?: string;
  /** Where a failed session is logged. */
  readonly log?: vscode.LogOutputChannel;
  /** Keep the terminal open after the exit, with this line (e.g. "The container exited with code 3."), until a key is pressed. */
  readonly holdOnExit?: (code: number) => string;
  /**
   * Called when the session fails before it delivered anything (output or
   * exit code), e.g. an attach whose start the daemon refused. true: the
   * caller told the user (the terminal closes, saying nothing); false: the
   * terminal shows the error.
   */
  readonly onFailure?: (error: unknown) => boolean;
}

/** The transcript kept for `output`: the last this many characters. */
const TRANSCRIPT_CHARS = 64 * 1024;

export class StdioTerminal implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;

  private connection: StdioConnection | undefined;
  private pendingSize: Dimensions | undefined;
  private readonly decoder = new TextDecoder();
  private transcript = '';
  private finished = false;
  private closedByUser = false;
  private resolveExit!: (code: number | undefined) => void;
  /** The exit code once the process ended; undefined when the session ended without one. */
  readonly exited = new Promise<number | undefined>((resolve) => (this.resolveExit = resolve));

  constructor(private readonly options: StdioTerminalOptions) {}

  /** The output so far (the last 64 KiB of text): for tests and diagnostics. */
  get output(): string {
    return this.transcript;
  }

  open(dimensions: vscode.TerminalDimensions | undefined): void {
    if (this.options.banner) this.write(`\x1b[2m${this.options.banner}\x1b[0m\r\n`);
    void this.run(dimensions);
  }

  handleInput(data: string): void {
    if (this.finished) {
      this.closeEmitter.fire();
      return;
    }
    this.connection?.sendStdin(Buffer.from(data, 'utf8'));
  }

  setDimensions(dimensions: vscode.TerminalDimensions): void {
    if (this.connection) this.connection.resize(dimensions.rows, dimensions.columns);
    else this.pendingSize = dimensions;
  }

  close(): void {
    this.closedByUser = true;
    this.finish(undefined);
    this.connection?.cancel();
  }

  private async run(dimensions: vscode.TerminalDimensions | undefined): Promise<void> {
    let exitCode: number | undefined;
    let received = false;
    try {
      const connection = await this.options.connect(dimensions);
      this.connection = connection;
      if (this.closedByUser) {
        connection.cancel();
        return;
      }
      if (this.pendingSize) connection.resize(this.pendingSize.rows, this.pendingSize.columns);
      for await (const event of connection.events) {
        received = true;
        if ('output' in event) this.writeOutput(event.output);
        else exitCode = event.exitCode;
      }
      this.writeOutput(new Uint8Array(), true);
      if (this.closedByUser) return;
      if (exitCode !== undefined && this.options.holdOnExit) {
        this.stayOpen(this.options.holdOnExit(exitCode), false, exitCode);
      } else if (exitCode !== undefined) {
        this.finish(exitCode);
        this.closeEmitter.fire(exitCode);
      } else {
        this.stayOpen(vscode.l10n.t('The session ended.'));
      }
    } catch (e) {
      if (this.closedByUser) return;
      this.options.log?.warn(`terminal session failed: ${describe(e)}`);
      if (!received && this.options.onFailure?.(e)) {
        this.finish(undefined);
        this.closeEmitter.fire();
      } else {
        this.stayOpen(describe(e), true);
      }
    }
  }

  private stayOpen(message: string, error = false, exitCode?: number): void {
    const colour = error ? '\x1b[31m' : '\x1b[2m';
    this.write(`\r\n${colour}${message}\x1b[0m\r\n\x1b[2m${vscode.l10n.t('Press any key to close the terminal.')}\x1b[0m\r\n`);
    this.finish(exitCode);
  }

  private finish(code: number | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveExit(code);
  }

  private writeOutput(data: Uint8Array, end = false): void {
    let text = this.decoder.decode(data, { stream: !end });
    if (!text) return;
    if (!this.options.tty) text = text.replace(/\r?\n/g, '\r\n');
    this.write(text);
  }

  private write(text: string): void {
    this.transcript = (this.transcript + text).slice(-TRANSCRIPT_CHARS);
    this.writeEmitter.fire(text);
  }
}
