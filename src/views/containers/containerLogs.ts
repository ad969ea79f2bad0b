/**
 * Container logs as a read-only document that follows:
 * `gantry:/container/<id>/<name>.log`.
 *
 * Why a document (and not an output channel or a terminal): it is an editor
 * tab per container that the user can search, select, copy and save, with
 * the `log` language's highlighting; it holds the whole (recent) log rather
 * than what a terminal's scrollback kept; and its text is readable through
 * the API, which the tests use to check what the user sees.
 *
 * Lifecycle. Opening the document starts one `containers.logs(follow)` call
 * (the last MAX_LINES lines, then live lines); the text grows as lines
 * arrive, and its editors stay at the end until the user scrolls up
 * (logScrolling.ts). The daemon keeps the call open across restarts by the
 * restart policy; a restart (by the policy or the user) is marked where the
 * old run's lines end: `--- exited with code N, restarted ---`, placed by the
 * lines' timestamps and the `die` event's (the old run's lines are all
 * written before it, the new run's after). Closing the document ends the
 * call. The log goes on from the last line shown (no line twice,
 * none lost that the daemon still has) when the connection comes back after
 * a drop, and when the container starts again after it exited (the daemon
 * ends a follow then; a `--- exited with code N ---` line marks the spot).
 * Once the container is removed, a last line says so. When Gantry switches
 * to another runtime (Connect to Host…), the log ends with a line saying so:
 * the container lives on the runtime it was opened from.
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { describe, type ErrorKind, isNotFound, kindOf, LogCursor, type LogEntry } from '../../../runtime/client';
import { parseContainerDocumentUri } from './containerDocuments';
import { containerState } from './containerNodes';
import { DocumentStreams } from './documentStreams';
import { LogScrolling } from './logScrolling';

/** What one document keeps: the newest lines; older ones are dropped in blocks (a trim per line would be quadratic). */
export const MAX_LINES = 10_000;
const TRIM_SLACK = 1_000;
/** Lines arriving within this window become one document update. */
const FLUSH_MS = 100;
/** After a dropped call: try again this much later (or at the next 'connected', whichever comes first). */
const RETRY_MS = 2_000;
/** Failures that say the link went, not that the log cannot be read. */
const DROPPED = new Set<ErrorKind>(['Unavailable', 'Cancelled', 'DeadlineExceeded']);

export class ContainerLogDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly followers = new DocumentStreams<LogFollower>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly scrolling = new LogScrolling((uri) => this.followers.has(uri));
  readonly onDidChange = this.changeEmitter.event;
  /** The runtime the open documents' containers live on (undefined: this machine's). */
  private host: string | undefined;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.host = connection.current.host;
    this.subscriptions.push(
      vscode.workspace.onDidCloseTextDocument((document) => this.stop(document.uri)),
      connection.onDidChange((snapshot) => {
        if (snapshot.host !== this.host) {
          const from = this.host ?? vscode.l10n.t('the local runtime');
          this.host = snapshot.host;
          // The document keeps its text; reopened after closing, it follows the new runtime's container.
          for (const f of this.followers.all()) f.end(vscode.l10n.t('Gantry switched away from {0}; this log ends here.', from));
        }
        if (snapshot.state === 'connected') for (const f of this.followers.all()) f.resume();
      }),
      connection.onDidReceiveEvent((event) => {
        for (const f of this.followers.all()) {
          if (f.id !== event.id) continue;
          if (event.topic === '/containers/die') f.died(event.timestamp?.getTime(), Number(event.attributes.exitCode));
          if (event.topic === '/containers/restart') f.restarted();
          if (event.topic === '/containers/start' || event.topic === '/containers/restart') f.resume();
        }
      }),
      this.scrolling,
    );
  }

  /** Scrolls `editor` to the end of its log and follows it from there. */
  revealEnd(editor: vscode.TextEditor): void {
    this.scrolling.follow(editor);
  }

  static matches(uri: vscode.Uri): boolean {
    return parseContainerDocumentUri(uri)?.kind === 'logs';
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const ref = parseContainerDocumentUri(uri);
    if (ref?.kind !== 'logs') throw new Error(`not a container log document: ${uri.toString()}`);
    return this.followers.of(uri, () => new LogFollower(this.connection, this.log, ref.id, () => this.changeEmitter.fire(uri))).text();
  }

  /** How many log calls are open: for tests (closing a document must end its call). */
  get following(): number {
    return this.followers.streaming;
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.followers.dispose();
    this.changeEmitter.dispose();
  }

  private stop(uri: vscode.Uri): void {
    this.followers.stop(uri);
    this.scrolling.forget(uri);
  }
}

/** A line of the document: a log line with its time, or a marker (`--- … ---`). */
interface Line {
  readonly text: string;
  readonly at?: number;
  /** An exit marker (`--- exited with code N ---`): a restart's marker takes its place. */
  readonly exit?: boolean;
}

/** One document's log call and lines. */
class LogFollower {
  private lines: Line[] = [];
  private abort: AbortController | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder();
  /** Where to resume after a dropped connection: the last line's time, and how many lines had exactly that time. */
  /** Where a follow resumes after a dropped link or a restart of the container. */
  private readonly cursor = new LogCursor();
  private ended = false;
  private disposed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The last exit (die event): where a restart's marker goes, and the code it says. */
  private lastDie: { at: number | undefined; exitCode: number } | undefined;
  /** The time of the last die event marked as a restart: afterEnd does not mark that exit again. */
  private restartMarkedAt: number | undefined;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    readonly id: string,
    private readonly changed: () => void,
  ) {}

  get streaming(): boolean {
    return this.abort !== undefined;
  }

  text(): string {
    return this.lines.map((l) => l.text).join('');
  }

  /** Starts the call, or resumes it after a dropped connection. No-op while streaming or once ended. */
  resume(): void {
    if (this.disposed || this.ended || this.abort || this.connection.current.state !== 'connected') return;
    const abort = new AbortController();
    this.abort = abort;
    void this.pump(abort);
  }

  died(at: number | undefined, exitCode: number): void {
    this.lastDie = { at, exitCode };
  }

  /**
   * Marks the restart after the last line the old run wrote (before the die
   * event's time), in place of an exit marker already there.
   */
  restarted(): void {
    if (this.disposed) return;
    const die = this.lastDie;
    this.lastDie = undefined;
    const note = die ? vscode.l10n.t('exited with code {0}, restarted', die.exitCode) : vscode.l10n.t('restarted');
    const marker: Line = { text: `--- ${note} ---\n` };
    let i = this.lines.length;
    if (die?.at !== undefined) {
      while (i > 0 && this.lines[i - 1].at !== undefined && this.lines[i - 1].at! > die.at) i--;
      this.restartMarkedAt = die.at;
    }
    if (i > 0 && this.lines[i - 1].exit) this.lines[i - 1] = marker;
    else this.lines.splice(i, 0, marker);
    this.scheduleFlush();
  }

  /** Stops following for good, with a last line saying why. */
  end(note: string): void {
    if (this.disposed) return;
    this.ended = true;
    this.abort?.abort();
    this.abort = undefined;
    clearTimeout(this.retryTimer);
    this.appendNote(note);
  }

  dispose(): void {
    this.disposed = true;
    this.abort?.abort();
    this.abort = undefined;
    clearTimeout(this.flushTimer);
    clearTimeout(this.retryTimer);
  }

  private async pump(abort: AbortController): Promise<void> {
    let next: 'wait' | 'retry' | 'ended';
    try {
      const client = this.connection.requireClient();
      // The cursor resumes after the last line shown, skipping what the daemon sends again.
      for await (const entry of this.cursor.entries(client, this.id, { follow: true, tail: MAX_LINES }, abort.signal)) {
        this.append(entry);
      }
      if (abort.signal.aborted) return;
      next = await this.afterEnd();
    } catch (e) {
      if (abort.signal.aborted) return;
      const dropped = this.connection.current.state !== 'connected' || DROPPED.has(kindOf(e));
      this.log.warn(`Following the log of ${this.id} stopped${dropped ? ' (resumes when connected)' : ''}: ${describe(e)}`);
      if (!dropped) this.appendNote(vscode.l10n.t('The log stopped: {0}', describe(e)));
      next = dropped ? 'retry' : 'ended';
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    if (next === 'ended') this.ended = true;
    // Resumed by the connection's next 'connected' (or now, if it already is); 'wait' resumes on a start event.
    if (next === 'retry') this.retryTimer = setTimeout(() => this.resume(), RETRY_MS);
  }

  /**
   * The daemon ends a follow when the container is removed or has stopped
   * for good: say which, and whether the log goes on (it does when the
   * container starts again: ContainerLogDocuments resumes it on the event).
   */
  private async afterEnd(): Promise<'wait' | 'retry' | 'ended'> {
    try {
      const { container } = await this.connection.requireClient().containers.inspect(this.id, { timeoutMs: 5_000 });
      const state = containerState(container!.status);
      if (state === 'running' || state === 'restarting' || state === 'paused') return 'retry';
      const finished = container!.finishedAt?.getTime();
      // A restart (by the user) already marked this exit: its die event came after the finish.
      const marked = this.restartMarkedAt !== undefined && finished !== undefined && this.restartMarkedAt >= finished;
      if (state === 'exited' && !marked) this.appendNote(vscode.l10n.t('exited with code {0}', container!.exitCode), true);
      return 'wait';
    } catch (e) {
      if (!isNotFound(e)) return 'retry';
      this.appendNote(vscode.l10n.t('The container was removed; the log ends here.'));
      return 'ended';
    }
  }

  private append(entry: LogEntry): void {
    let line = this.decoder.decode(entry.data);
    if (!line.endsWith('\n')) line += '\n';
    this.lines.push({ text: line, at: entry.timestamp?.getTime() });
    if (this.lines.length > MAX_LINES + TRIM_SLACK) this.lines = this.lines.slice(-MAX_LINES);
    this.scheduleFlush();
  }

  private appendNote(text: string, exit = false): void {
    this.lines.push({ text: `--- ${text} ---\n`, exit });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.disposed) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (this.disposed) return;
      this.changed();
    }, FLUSH_MS);
  }
}
