/**
 * Where a client's daemon is: a RuntimeEndpoint is what the extension's
 * RuntimeConnection (src/client/connection.ts) dials, and openClient (below)
 * is its handshake. Two kinds exist: this machine's socket (LocalEndpoint,
 * below) and a host reached over SSH (ssh/sshEndpoint.ts). No VS Code imports.
 *
 * Lifecycle, as RuntimeConnection drives it:
 *
 *   open()     → a gRPC target ("unix:/path"). Local: the configured socket,
 *                every time (the setting may have changed). SSH: the first
 *                call connects (probe, deploy, start gantryd, local proxy);
 *                later calls return the same proxy.
 *   recover()  after a call through an opened endpoint failed: try to bring the
 *                daemon back (SSH: probe again, restart or redeploy it). Resolves
 *                true when it did something worth retrying the call for; throws
 *                the reason when it cannot (link down, host refuses).
 *   explain(e) the error to show for a failed call (SSH: the ssh-level reason).
 *   retryable(e) whether trying again later can help (SSH: a refused host key or
 *                login cannot fix itself; a dead link can).
 *   close()    releases everything it owns (SSH: every ssh process, the proxy
 *                socket). Idempotent; after it, open() fails. The daemon itself
 *                is never stopped: other clients share it.
 */
import type { VersionResponse } from '../api/gen/gantry/v1/version';
import type { Ctx } from '../context';
import { RuntimeClient } from './client';

export interface RuntimeEndpoint {
  /** "ssh://user@host" for a remote host; undefined for this machine's daemon. */
  readonly host: string | undefined;
  /** The daemon's socket: local path, or the path on the remote host once known ('' before). */
  readonly socket: string;
  /** For log lines: "at /run/gantry/gantry.sock", "on ssh://host". */
  readonly where: string;
  /** How long the first call may take (over SSH it includes ssh's own connect). */
  readonly callTimeoutMs: number;
  open(ctx: Ctx, onProgress: (message: string) => void): Promise<string>;
  recover(ctx: Ctx, onProgress: (message: string) => void): Promise<boolean>;
  explain(e: unknown): unknown;
  retryable(e: unknown): boolean;
  close(): Promise<void>;
}

/** This machine's gantryd at the socket `resolveSocket` names (read at every open). */
export class LocalEndpoint implements RuntimeEndpoint {
  readonly host = undefined;
  readonly callTimeoutMs = 5_000;

  /**
   * `discover`, when given, runs before each open and may change what
   * `resolveSocket` returns (the extension's socket discovery,
   * client/discovery.ts): a daemon started or stopped since is found.
   */
  constructor(
    private readonly resolveSocket: () => string,
    private readonly discover?: () => Promise<unknown>,
  ) {}

  get socket(): string {
    return this.resolveSocket();
  }

  get where(): string {
    return `at ${this.socket}`;
  }

  async open(): Promise<string> {
    await this.discover?.();
    return `unix:${this.socket}`;
  }

  async recover(): Promise<boolean> {
    // Starting a local daemon needs root and is the user's call (Gantry: Start Runtime).
    return false;
  }

  explain(e: unknown): unknown {
    return e;
  }

  retryable(): boolean {
    // A local daemon may be started at any time: keep trying.
    return true;
  }

  async close(): Promise<void> {
    // Nothing of ours runs for a local socket.
  }
}

/**
 * Opens the endpoint and asks Version; once more after the endpoint brought
 * its daemon back (SSH: restarted or redeployed it). The client is closed on
 * failure and on abort (an open channel over SSH is a running ssh).
 */
export async function openClient(
  endpoint: RuntimeEndpoint,
  signal: AbortSignal,
  progress: (m: string) => void,
): Promise<{ client: RuntimeClient; version: VersionResponse }> {
  const target = await endpoint.open({ signal }, progress);
  let client = new RuntimeClient(target);
  const abandon = () => client.close();
  signal.addEventListener('abort', abandon);
  try {
    try {
      return { client, version: await client.system.version({ timeoutMs: endpoint.callTimeoutMs, signal }) };
    } catch (e) {
      if (signal.aborted || !(await endpoint.recover({ signal }, progress))) throw e;
      // grpc-js fails new calls fast on a channel that just failed: a fresh client.
      client.close();
      client = new RuntimeClient(target);
      return { client, version: await client.system.version({ timeoutMs: endpoint.callTimeoutMs, signal }) };
    }
  } catch (e) {
    client.close();
    throw e;
  } finally {
    signal.removeEventListener('abort', abandon);
  }
}
