/**
 * The extension's link to gantryd: one RuntimeClient at a time, a connection
 * state the UI renders, and the daemon's event stream.
 *
 * States: connecting → connected → (stream or call fails) → disconnected →
 * (backoff timer or reconnect()) → connecting … A connection is "connected"
 * only after the daemon answered Version; it stays so while the event
 * subscription is open, which is how a dead daemon is noticed without
 * polling. After a reconnect the subscription resumes from the last sequence
 * seen, so no event is lost across a daemon restart.
 */
import * as vscode from 'vscode';
import { RuntimeClient } from '../../runtime/api/client';
import type { Envelope } from '../../runtime/api/gen/gantry/v1/events';
import type { VersionResponse } from '../../runtime/api/gen/gantry/v1/version';
import { describe } from '../../runtime/errdefs/errdefs';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

export interface ConnectionSnapshot {
  readonly state: ConnectionState;
  readonly socket: string;
  readonly version?: VersionResponse;
  readonly lastError?: string;
}

const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

export class RuntimeConnection implements vscode.Disposable {
  private client: RuntimeClient | undefined;
  private snapshot: ConnectionSnapshot;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private session: AbortController | undefined;
  private lastSequence: number | undefined;
  private disposed = false;
  private readonly changeEmitter = new vscode.EventEmitter<ConnectionSnapshot>();
  private readonly eventEmitter = new vscode.EventEmitter<Envelope>();
  private readonly gapEmitter = new vscode.EventEmitter<void>();

  /** Fires on every state change. */
  readonly onDidChange = this.changeEmitter.event;
  /** Every daemon event, in sequence order. */
  readonly onDidReceiveEvent = this.eventEmitter.event;
  /** Events were missed (log truncated or daemon reset): views must re-list. */
  readonly onDidMissEvents = this.gapEmitter.event;

  constructor(
    private readonly resolveSocket: () => string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.snapshot = { state: 'disconnected', socket: resolveSocket() };
  }

  get current(): ConnectionSnapshot {
    return this.snapshot;
  }

  /** The client of a connected daemon; throws a clear error otherwise. */
  requireClient(): RuntimeClient {
    if (!this.client || this.snapshot.state !== 'connected') {
      throw new Error(`Gantry is not connected to a runtime (${this.snapshot.socket}).`);
    }
    return this.client;
  }

  /** Drops the current link (if any) and connects now, e.g. after the socket setting changed. */
  reconnect(): Promise<void> {
    this.attempt = 0;
    return this.connect();
  }

  dispose(): void {
    this.disposed = true;
    this.teardown();
    this.changeEmitter.dispose();
    this.eventEmitter.dispose();
    this.gapEmitter.dispose();
  }

  private async connect(): Promise<void> {
    if (this.disposed) return;
    this.teardown();
    const socket = this.resolveSocket();
    const client = RuntimeClient.forSocket(socket);
    const session = new AbortController();
    this.client = client;
    this.session = session;
    this.setState({ state: 'connecting', socket });
    try {
      const version = await client.version({ timeoutMs: 5_000, signal: session.signal });
      if (session.signal.aborted) return;
      this.attempt = 0;
      this.log.info(`Connected to gantryd ${version.version} at ${socket}`);
      this.setState({ state: 'connected', socket, version });
      void this.follow(client, session.signal);
    } catch (e) {
      if (session.signal.aborted) return;
      this.fail(socket, e);
    }
  }

  private async follow(client: RuntimeClient, signal: AbortSignal): Promise<void> {
    try {
      for await (const message of client.subscribe({ since: this.lastSequence }, signal)) {
        const kind = message.kind;
        if (kind?.$case === 'gap') {
          this.log.info(`Missed daemon events before #${kind.value.oldest}; refreshing`);
          this.gapEmitter.fire();
        } else if (kind?.$case === 'event') {
          this.lastSequence = kind.value.sequence;
          this.eventEmitter.fire(kind.value);
        }
      }
      if (!signal.aborted) this.fail(this.snapshot.socket, new Error('the daemon closed the event stream'));
    } catch (e) {
      if (!signal.aborted) this.fail(this.snapshot.socket, e);
    }
  }

  private fail(socket: string, e: unknown): void {
    const lastError = describe(e);
    const delay = Math.min(BACKOFF_INITIAL_MS * 2 ** this.attempt, BACKOFF_MAX_MS);
    this.attempt++;
    if (this.snapshot.state !== 'disconnected' || this.snapshot.lastError !== lastError) {
      this.log.warn(`Not connected to gantryd at ${socket}: ${lastError} (retrying in ${delay / 1000}s)`);
    }
    this.teardown();
    this.setState({ state: 'disconnected', socket, lastError });
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private teardown(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.session?.abort();
    this.session = undefined;
    this.client?.close();
    this.client = undefined;
  }

  private setState(next: ConnectionSnapshot): void {
    this.snapshot = next;
    this.changeEmitter.fire(next);
  }
}
