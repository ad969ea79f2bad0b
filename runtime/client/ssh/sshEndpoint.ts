/**
 * gantryd on a remote host, reached over SSH: a RuntimeEndpoint (../endpoint.ts) around
 * connectRemote() (remote.ts beside it has the whole story —
 * probe, deploy, start, and the local proxy whose every connection is one
 * `ssh HOST … gantry dial-stdio`). The CLI's `--host ssh://…` uses the same
 * code, so both behave alike.
 *
 * The endpoint owns at most one RemoteRuntime: made by the first open(),
 * kept across dropped connections (its proxy socket stays; each new gRPC
 * connection spawns a new ssh), and closed by close(). A close() during a
 * connect waits for that connect to end and closes what it made, so once
 * close() resolves no ssh of this endpoint runs. No VS Code imports.
 */
import type { Ctx } from '../../context';
import { GantryError, kindOf, type ErrorKind } from '../../errdefs/errdefs';
import { connectRemote } from './connect';
import type { RemoteOptions, RemoteRuntime, SshTarget } from './remote';
import { SSH_DEFAULTS } from './ssh';
import { formatSshTarget } from './target';
import type { RuntimeEndpoint } from '../endpoint';

export type RemoteConnector = (ctx: Ctx, target: SshTarget, opts: RemoteOptions) => Promise<RemoteRuntime>;

/**
 * Failures that waiting does not fix: a changed or unknown host key, a
 * refused login, a host without Node or runc, a bad ssh config. sshErrors.ts
 * promises that only Unavailable (and timeouts) can be retried; NotFound
 * (name resolution) is retried too, because DNS comes back with the network.
 */
const FINAL: ReadonlySet<ErrorKind> = new Set(['PermissionDenied', 'Unauthenticated', 'FailedPrecondition', 'InvalidArgument']);

export class SshEndpoint implements RuntimeEndpoint {
  readonly host: string;
  private runtime: RemoteRuntime | undefined;
  private opening: Promise<RemoteRuntime> | undefined;
  private closed = false;
  /** Progress of whoever asked last: ensureDaemon reports through the options given at connect time. */
  private progress: (message: string) => void = () => undefined;

  constructor(
    readonly target: SshTarget,
    private readonly options: RemoteOptions,
    private readonly connector: RemoteConnector = connectRemote,
  ) {
    this.host = formatSshTarget(target);
  }

  get socket(): string {
    return this.runtime?.facts.socket ?? '';
  }

  get where(): string {
    return `on ${this.host}`;
  }

  get callTimeoutMs(): number {
    return ((this.options.connectTimeoutSec ?? SSH_DEFAULTS.connectTimeoutSec) + 10) * 1000;
  }

  /** The ssh processes carrying connections now (tests check none outlive close()). */
  get sshPids(): readonly number[] {
    return this.runtime?.sshPids ?? [];
  }

  /** What the last deploy did ("uploaded", "started"), once connected. */
  get remote(): RemoteRuntime | undefined {
    return this.runtime;
  }

  async open(ctx: Ctx, onProgress: (message: string) => void): Promise<string> {
    this.progress = onProgress;
    // The connect of an earlier attempt (aborted by now) ends before another starts: never two runtimes.
    while (this.opening) await this.opening.catch(() => undefined);
    if (this.closed) throw this.closedError();
    if (this.runtime) return this.runtime.grpcTarget;
    const opening = this.connector(ctx, this.target, { ...this.options, onProgress: (m) => this.progress(m) }).then(async (runtime) => {
      // Closed meanwhile: nobody will use it. (Merely aborted: keep it for the next attempt.)
      if (this.closed) {
        await runtime.close();
        throw this.closedError();
      }
      this.runtime = runtime;
      return runtime;
    });
    this.opening = opening;
    let runtime: RemoteRuntime;
    try {
      runtime = await opening;
    } finally {
      if (this.opening === opening) this.opening = undefined;
    }
    for (const warning of runtime.deploy.warnings) onProgress(warning);
    return runtime.grpcTarget;
  }

  async recover(ctx: Ctx, onProgress: (message: string) => void): Promise<boolean> {
    if (!this.runtime || this.closed) return false;
    this.progress = onProgress;
    const result = await this.runtime.ensureDaemon(ctx);
    if (result.started) onProgress(`started gantryd on ${this.host} (pid ${result.daemon.pid})`);
    return true;
  }

  explain(e: unknown): unknown {
    return this.runtime ? this.runtime.translate(e) : e;
  }

  retryable(e: unknown): boolean {
    return !this.closed && !FINAL.has(kindOf(e));
  }

  async close(): Promise<void> {
    this.closed = true;
    // A connect still running ends by its caller's abort (or completes): either way it closes what it made.
    await this.opening?.catch(() => undefined);
    const runtime = this.runtime;
    this.runtime = undefined;
    await runtime?.close();
  }

  private closedError(): GantryError {
    return new GantryError('Cancelled', `the connection to ${this.host} was closed`);
  }
}
