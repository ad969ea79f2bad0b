/**
 * A running container's CPU and memory as a read-only document that updates
 * itself: `gantry:/container/<id>/<name>.stats`, the numbers of `gantry
 * stats` (Docker's columns) and the last minute of samples.
 *
 * Why a document (no webview): it needs no HTML, is searchable and
 * copyable like the logs and inspect documents, and its text is readable
 * through the API, which the tests use.
 *
 * Lifecycle. Opening the document starts one `containers.stats(stream)`
 * call: the daemon sends a sample a second, and each one rewrites the text.
 * Closing the document's last tab (or the document) ends the call: nothing
 * is read for a document nobody looks at. When the container stops, the
 * daemon ends the call and the text says so; it goes on when the container
 * starts again, or when the connection comes back after a drop. Opening it
 * again after its tab closed (`watch`) starts a new call.
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { type ContainerStats, describe, kindOf } from '../../../runtime/client';
import { bytesSize } from '../../../runtime/presentation';
import { parseContainerDocumentUri } from './containerDocuments';
import { DocumentStreams } from './documentStreams';

/** Samples kept for the history table: a minute at one a second. */
const HISTORY = 60;
const RESUME_TOPICS = new Set(['/containers/start', '/containers/restart', '/containers/unpause']);

export class ContainerStatsDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly watchers = new DocumentStreams<StatsWatcher>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly onDidChange = this.changeEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidCloseTextDocument((document) => this.stop(document.uri)),
      // VS Code keeps a closed tab's document for a while: the tab closing is what says nobody looks.
      vscode.window.tabGroups.onDidChangeTabs((e) => {
        for (const tab of e.closed) {
          const uri = tab.input instanceof vscode.TabInputText ? tab.input.uri : undefined;
          if (uri && this.watchers.has(uri) && !isShown(uri)) this.stop(uri);
        }
      }),
      connection.onDidChange((snapshot) => {
        if (snapshot.state === 'connected') for (const w of this.watchers.all()) w.resume();
      }),
      connection.onDidReceiveEvent((event) => {
        if (!RESUME_TOPICS.has(event.topic)) return;
        for (const w of this.watchers.all()) if (w.id === event.id) w.resume();
      }),
    );
  }

  static matches(uri: vscode.Uri): boolean {
    return parseContainerDocumentUri(uri)?.kind === 'stats';
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.watcher(uri).text();
  }

  /** Makes sure an open document of `uri` is updating (after its tab closed, it was not). */
  watch(uri: vscode.Uri): void {
    const existed = this.watchers.has(uri);
    this.watcher(uri);
    if (!existed) this.changeEmitter.fire(uri);
  }

  /** How many stats calls are open: for tests (closing the tab must end its call). */
  get watching(): number {
    return this.watchers.streaming;
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.watchers.dispose();
    this.changeEmitter.dispose();
  }

  private watcher(uri: vscode.Uri): StatsWatcher {
    const ref = parseContainerDocumentUri(uri);
    if (ref?.kind !== 'stats') throw new Error(`not a container stats document: ${uri.toString()}`);
    return this.watchers.of(uri, () => new StatsWatcher(this.connection, this.log, ref.id, ref.name, () => this.changeEmitter.fire(uri)));
  }

  private stop(uri: vscode.Uri): void {
    this.watchers.stop(uri);
  }
}

function isShown(uri: vscode.Uri): boolean {
  const key = uri.toString();
  return vscode.window.tabGroups.all.some((g) =>
    g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === key),
  );
}

/** One document's stats call and samples. */
class StatsWatcher {
  private samples: ContainerStats[] = [];
  private abort: AbortController | undefined;
  /** Why no sample comes (stopped, not reachable); cleared by the next sample. */
  private note = vscode.l10n.t('Waiting for the first sample…');
  private disposed = false;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    readonly id: string,
    private readonly name: string,
    private readonly changed: () => void,
  ) {}

  get streaming(): boolean {
    return this.abort !== undefined;
  }

  /** Starts the call, or starts it again after it ended. No-op while streaming. */
  resume(): void {
    if (this.disposed || this.abort || this.connection.current.state !== 'connected') return;
    const abort = new AbortController();
    this.abort = abort;
    void this.stream(abort);
  }

  text(): string {
    const lines = [vscode.l10n.t('{0}: resource use, one sample a second while this tab is open', this.name), ''];
    const last = this.samples.at(-1);
    if (last) {
      const memPercent = last.memoryLimit > 0 ? (last.memoryUsage / last.memoryLimit) * 100 : 0;
      const rows: [string, string][] = [
        [vscode.l10n.t('CPU'), `${last.cpuPercent.toFixed(2)}%`],
        [vscode.l10n.t('Memory'), `${bytesSize(last.memoryUsage)} / ${bytesSize(last.memoryLimit)} (${memPercent.toFixed(2)}%)`],
        [vscode.l10n.t('PIDs'), last.pidsLimit > 0 ? `${last.pids} / ${last.pidsLimit}` : String(last.pids)],
        [vscode.l10n.t('Sampled'), last.read?.toISOString() ?? 'N/A'],
      ];
      const width = Math.max(...rows.map(([k]) => k.length)) + 2;
      for (const [key, value] of rows) lines.push(`${key.padEnd(width)}${value}`);
    }
    if (this.note) lines.push('', this.note);
    if (this.samples.length > 1) {
      lines.push('', vscode.l10n.t('Last {0} samples, newest first', this.samples.length), 'TIME       CPU %     MEM USAGE');
      for (const s of [...this.samples].reverse()) {
        const time = s.read ? s.read.toISOString().slice(11, 19) : '--:--:--';
        lines.push(`${time}   ${`${s.cpuPercent.toFixed(2)}%`.padEnd(8)}  ${bytesSize(s.memoryUsage)}`);
      }
    }
    return lines.join('\n') + '\n';
  }

  dispose(): void {
    this.disposed = true;
    this.abort?.abort();
    this.abort = undefined;
  }

  private async stream(abort: AbortController): Promise<void> {
    try {
      const client = this.connection.requireClient();
      for await (const sample of client.containers.stats(this.id, true, abort.signal)) {
        this.samples.push(sample);
        if (this.samples.length > HISTORY) this.samples.splice(0, this.samples.length - HISTORY);
        this.note = '';
        this.changed();
      }
      this.note = vscode.l10n.t('The container stopped; updates go on when it starts again.');
    } catch (e) {
      if (abort.signal.aborted) return;
      this.note =
        kindOf(e) === 'FailedPrecondition'
          ? vscode.l10n.t('The container is not running; updates go on when it starts.')
          : vscode.l10n.t('No samples: {0}. Updates go on when the connection is back.', describe(e));
      this.log.debug(`stats of ${this.name}: ${describe(e)}`);
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    if (!this.disposed) this.changed();
  }
}
