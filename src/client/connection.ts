/**
 * The extension's link to gantryd: one RuntimeEndpoint (this machine's
 * socket, or a host over SSH — runtime/client/endpoint.ts), one RuntimeClient
 * at a time, a connection state the UI renders, and the daemon's event
 * stream. The handshake (openClient) and the resumable event subscription
 * (EventCursor) are the client package's; what is here is the VS Code part.
 *
 * States
 *   connecting    a fresh attempt: at activation, after Reconnect, after a
 *                 switch of endpoint. Over SSH it may deploy and start gantryd;
 *                 `progress` says which step runs.
 *   connected     the daemon answered Version; it stays so while the event
 *                 subscription is open, which is how a dead daemon or link is
 *                 noticed without polling.
 *   reconnecting  it was connected, and the link or the daemon went away;
 *                 attempts go on with backoff until one succeeds.
 *   disconnected  a fresh attempt failed; attempts go on with backoff, unless
 *                 the failure cannot fix itself (a refused host key or login):
 *                 then `retrying` is false and it waits for the user.
 *
 *   connecting ──ok──▶ connected ──stream/call fails──▶ reconnecting ──ok──▶ connected
 *        │                                                  ▲   │ (retry fails: stays, backoff)
 *        └──fails──▶ disconnected ──retry ok──▶ connected   └───┘
 *
 * An attempt opens the endpoint and asks Version; if that fails on an
 * endpoint that can bring its daemon back (SSH: ensureDaemon restarts or
 * redeploys it), it does and asks again. Errors are shown as the endpoint
 * explains them (over SSH: "ssh: lost the link to ssh://host: …").
 *
 * After a reconnect to the same endpoint the subscription resumes from the
 * last sequence seen (EventCursor), so no event is lost across a dropped link or
 * a daemon restart. A switch to another endpoint starts afresh (sequence
 * numbers belong to one daemon) and closes the old endpoint: no ssh of it
 * outlives the switch. close() (deactivate) does the same for the last one.
 */
import * as vscode from 'vscode';
import {
  describe,
  type Envelope,
  EventCursor,
  openClient,
  type RuntimeClient,
  type RuntimeEndpoint,
  type VersionResponse,
} from '../../runtime/client';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ConnectionSnapshot {
  readonly state: ConnectionState;
  /** The remote host ("ssh://user@host"); undefined for this machine's daemon. */
  readonly host?: string;
  /** The daemon's socket: on this machine, or on the remote host once known ('' before). */
  readonly socket: string;
  readonly version?: VersionResponse;
  readonly lastError?: string;
  /** While connecting: the step under way ("uploading gantry.js (3.2 MB) to ssh://…"). */
  readonly progress?: string;
  /** Not connected: whether another attempt is scheduled (false: only Reconnect helps). */
  readonly retrying?: boolean;
}

const BACKOFF_INITIAL_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

type AttemptMode = 'fresh' | 'retry';

export class RuntimeConnection implements vscode.Disposable {
  private endpointValue: RuntimeEndpoint;
  private client: RuntimeClient | undefined;
  private snapshot: ConnectionSnapshot;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private session: AbortController | undefined;
  /** Where the event stream resumes after a reconnect to the same endpoint. */
  private readonly events = new EventCursor();
  private disposed = false;
  private closing: Promise<void> | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<ConnectionSnapshot>();
  private readonly eventEmitter = new vscode.EventEmitter<Envelope>();
  private readonly gapEmitter = new vscode.EventEmitter<void>();

  /** Fires on every state change (and on each progress step while connecting). */
  readonly onDidChange = this.changeEmitter.event;
  /** Every daemon event, in sequence order. */
  readonly onDidReceiveEvent = this.eventEmitter.event;
  /** Events were missed (log truncated or daemon reset): views must re-list. */
  readonly onDidMissEvents = this.gapEmitter.event;

  constructor(
    endpoint: RuntimeEndpoint,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.endpointValue = endpoint;
    this.snapshot = { state: 'disconnected', host: endpoint.host, socket: endpoint.socket };
  }

  get current(): ConnectionSnapshot {
    return this.snapshot;
  }

  get endpoint(): RuntimeEndpoint {
    return this.endpointValue;
  }

  /** The client of a connected daemon; throws a clear error otherwise. */
  requireClient(): RuntimeClient {
    if (!this.client || this.snapshot.state !== 'connected') {
      const where = this.snapshot.host ?? this.snapshot.socket;
      throw new Error(`Gantry is not connected to a runtime (${where}${this.snapshot.lastError ? `: ${this.snapshot.lastError}` : ''}).`);
    }
    return this.client;
  }

  /** The error to show for a failed call (over SSH: why the link failed, naming the host). */
  explain(e: unknown): unknown {
    return this.endpointValue.explain(e);
  }

  /** Drops the current link (if any) and connects now; resolves once this attempt succeeded or failed. */
  reconnect(): Promise<void> {
    this.attempt = 0;
    return this.connect('fresh');
  }

  /**
   * Uses `endpoint` from now on: the old one is closed (its ssh processes
   * stopped), the event stream starts afresh. Resolves once the old endpoint
   * is closed and the first attempt succeeded or failed.
   */
  async switchTo(endpoint: RuntimeEndpoint): Promise<void> {
    if (this.disposed) {
      await endpoint.close();
      throw new Error('Gantry is shutting down');
    }
    const old = this.endpointValue;
    this.endpointValue = endpoint;
    this.events.reset();
    this.attempt = 0;
    const connected = this.connect('fresh');
    if (old !== endpoint) {
      this.log.info(`Switching from gantryd ${old.where} to gantryd ${endpoint.where}`);
      await old.close().catch((e) => this.log.warn(`Closing the connection ${old.where} failed: ${describe(e)}`));
    }
    await connected;
  }

  /** Stops everything and closes the endpoint; resolves when no ssh of ours runs any more. Idempotent. */
  close(): Promise<void> {
    this.dispose();
    return this.closing!;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.teardown();
    this.closing = this.endpointValue
      .close()
      .catch((e) => this.log.warn(`Closing the connection ${this.endpointValue.where} failed: ${describe(e)}`));
    this.changeEmitter.dispose();
    this.eventEmitter.dispose();
    this.gapEmitter.dispose();
  }

  private async connect(mode: AttemptMode): Promise<void> {
    if (this.disposed) return;
    this.teardown();
    const endpoint = this.endpointValue;
    const session = new AbortController();
    this.session = session;
    if (mode === 'fresh') this.setState({ state: 'connecting', host: endpoint.host, socket: endpoint.socket });
    const progress = (message: string) => {
      if (session.signal.aborted) return;
      this.log.info(message);
      if (this.snapshot.state === 'connecting') this.setState({ ...this.snapshot, progress: message });
    };
    try {
      const { client, version } = await openClient(endpoint, session.signal, progress);
      if (session.signal.aborted) {
        client.close();
        return;
      }
      this.client = client;
      this.attempt = 0;
      this.log.info(`Connected to gantryd ${version.version} ${endpoint.where}`);
      this.setState({ state: 'connected', host: endpoint.host, socket: endpoint.socket, version });
      void this.follow(endpoint, client, session.signal);
    } catch (e) {
      if (session.signal.aborted) return;
      this.fail(endpoint, e, false);
    }
  }

  private async follow(endpoint: RuntimeEndpoint, client: RuntimeClient, signal: AbortSignal): Promise<void> {
    try {
      await this.events.follow(
        client,
        {
          onGap: (gap) => {
            this.log.info(`Missed daemon events before #${gap.oldest}; refreshing`);
            this.gapEmitter.fire();
          },
          onEvent: (event) => this.eventEmitter.fire(event),
        },
        signal,
      );
      if (!signal.aborted) this.fail(endpoint, new Error('the daemon closed the event stream'), true);
    } catch (e) {
      if (!signal.aborted) this.fail(endpoint, e, true);
    }
  }

  /** `dropped`: a connected link failed (→ reconnecting); otherwise an attempt failed. */
  private fail(endpoint: RuntimeEndpoint, e: unknown, dropped: boolean): void {
    const shown = endpoint.explain(e);
    const lastError = describe(shown);
    const retrying = endpoint.retryable(shown);
    const state = dropped || this.snapshot.state === 'reconnecting' ? 'reconnecting' : 'disconnected';
    const delay = Math.min(BACKOFF_INITIAL_MS * 2 ** this.attempt, BACKOFF_MAX_MS);
    this.attempt++;
    if (this.snapshot.state !== state || this.snapshot.lastError !== lastError) {
      const next = retrying ? `retrying in ${delay / 1000}s` : 'not retrying: fix the cause, then Reconnect';
      this.log.warn(`${dropped ? 'Lost' : 'Not connected to'} gantryd ${endpoint.where}: ${lastError} (${next})`);
    }
    this.teardown();
    this.setState({ state, host: endpoint.host, socket: endpoint.socket, lastError, retrying });
    if (retrying) this.retryTimer = setTimeout(() => void this.connect('retry'), delay);
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
    if (!this.disposed) this.changeEmitter.fire(next);
  }
}
