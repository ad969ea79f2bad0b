/**
 * Ports of containers forwarded to this machine by the extension: one local
 * listener per (container, port), made by the client's forwardPorts flow
 * (a gRPC stream per connection to gantryd, which dials the port inside the
 * container's network namespace: docs/networking.md, "Port forwarding").
 * It needs nothing but the link the window already has to the daemon, so
 * it is how a container on an SSH host (Connect to Host…) opens in this
 * machine's browser, and how an unpublished port is reached at all.
 *
 * Forwards are the window's: a second ask for the same port returns the one
 * listening; all of them stop when the window switches hosts or loses its
 * daemon, and when the extension is deactivated.
 */
import * as vscode from 'vscode';
import { describe, forwardPorts, type PortForwarding } from '../../runtime/client';
import type { RuntimeConnection } from '../client/connection';

export interface ActiveForward {
  readonly containerId: string;
  readonly containerName: string;
  readonly remote: number;
  readonly local: number;
}

export class PortForwards implements vscode.Disposable {
  private readonly active = new Map<string, { forward: ActiveForward; forwarding: PortForwarding }>();
  private readonly subscription: vscode.Disposable;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private endpoint: string | undefined;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = connection.onDidChange((snapshot) => {
      const now = snapshot.state === 'connected' ? (snapshot.host ?? snapshot.socket ?? '') : undefined;
      if (now !== this.endpoint) void this.stopAll();
      this.endpoint = now;
    });
  }

  list(): ActiveForward[] {
    return [...this.active.values()].map((a) => a.forward);
  }

  /** Forwards the container's port to a free local port (or returns the one forwarding it already). */
  async forward(containerId: string, remote: number): Promise<ActiveForward> {
    const key = `${containerId}:${remote}`;
    const existing = this.active.get(key);
    if (existing) return existing.forward;
    const forwarding = await forwardPorts({
      client: this.connection.requireClient(),
      container: containerId,
      ports: [{ local: 0, remote }],
      onError: (error, port) => this.log.warn(`forwarding localhost:${port.local} -> ${port.remote} failed: ${describe(error)}`),
    });
    const forward: ActiveForward = {
      containerId: forwarding.containerId,
      containerName: forwarding.containerName,
      remote,
      local: forwarding.listening[0].local,
    };
    this.active.set(key, { forward, forwarding });
    this.log.info(`Forwarding localhost:${forward.local} -> ${forward.containerName}:${remote}`);
    this.changed.fire();
    return forward;
  }

  async stop(forward: ActiveForward): Promise<void> {
    const key = `${forward.containerId}:${forward.remote}`;
    const entry = this.active.get(key);
    if (!entry) return;
    this.active.delete(key);
    await entry.forwarding.close();
    this.log.info(`Stopped forwarding localhost:${forward.local} -> ${forward.containerName}:${forward.remote}`);
    this.changed.fire();
  }

  async stopAll(): Promise<void> {
    for (const { forward } of [...this.active.values()]) await this.stop(forward);
  }

  dispose(): void {
    this.subscription.dispose();
    void this.stopAll();
    this.changed.dispose();
  }
}
