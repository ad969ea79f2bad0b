/**
 * The typed client side of gantry.v1.Containers, shared by the CLI and the
 * extension (`client.containers`). Unary calls map failures to GantryErrors (rpc.ts);
 * the two bidirectional calls (attach, exec) are wrapped in a StdioSession
 * that sends the start message first and turns the response stream into an
 * async iterable.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { fromServiceError } from '../errdefs/grpc';
import { stream as serverStream, unary, type CallOpts } from './rpc';
import { PortForwardStream } from './portForwardStream';
import type {
  AttachRequest,
  AttachResponse,
  AttachStart,
  ContainerConfig,
  ContainersClient,
  ContainerStats,
  ContainerSummary,
  DiffContainerResponse,
  ExecRequest,
  ExecResponse,
  ExecStart,
  InspectContainerResponse,
  LogEntry,
  LogsRequest,
  TopContainerResponse,
} from '../api/gen/gantry/v1/containers';

/** Long enough for a stop with the default 10 s timeout plus cleanup. */
const LIFECYCLE_TIMEOUT_MS = 120_000;

export interface StopOptions {
  /** Seconds before SIGKILL; undefined = the container's own stop timeout. */
  timeoutSeconds?: number;
  signal?: string;
}

export interface LogsOptions {
  follow?: boolean;
  tail?: number;
  since?: Date;
  until?: Date;
  stdout?: boolean;
  stderr?: boolean;
}

export class ContainersApi {
  constructor(private readonly containers: ContainersClient) {}

  async create(name: string, config: Partial<ContainerConfig> & { image: string }, opts?: CallOpts): Promise<ContainerSummary> {
    const { container } = await unary(this.containers, this.containers.create, { name, config: fullConfig(config) }, lifecycle(opts));
    return container!;
  }

  async start(id: string, opts?: CallOpts): Promise<ContainerSummary> {
    return (await unary(this.containers, this.containers.start, { id }, lifecycle(opts))).container!;
  }

  async stop(id: string, options: StopOptions = {}, opts?: CallOpts): Promise<ContainerSummary> {
    const request = {
      id,
      timeout: options.timeoutSeconds ?? 0,
      timeoutSet: options.timeoutSeconds !== undefined,
      signal: options.signal ?? '',
    };
    return (await unary(this.containers, this.containers.stop, request, lifecycle(opts))).container!;
  }

  async restart(id: string, timeoutSeconds?: number, opts?: CallOpts): Promise<ContainerSummary> {
    const request = { id, timeout: timeoutSeconds ?? 0, timeoutSet: timeoutSeconds !== undefined };
    return (await unary(this.containers, this.containers.restart, request, lifecycle(opts))).container!;
  }

  async kill(id: string, signal = '', opts?: CallOpts): Promise<void> {
    await unary(this.containers, this.containers.kill, { id, signal }, opts);
  }

  async pause(id: string, opts?: CallOpts): Promise<void> {
    await unary(this.containers, this.containers.pause, { id }, opts);
  }

  async unpause(id: string, opts?: CallOpts): Promise<void> {
    await unary(this.containers, this.containers.unpause, { id }, opts);
  }

  /** `volumes` (rm -v): its anonymous volumes go too. */
  async remove(id: string, force = false, opts?: CallOpts & { volumes?: boolean }): Promise<string> {
    const volumes = opts?.volumes ?? false;
    return (await unary(this.containers, this.containers.remove, { id, force, volumes }, lifecycle(opts))).id;
  }

  /** `allNamespaces`: CRI pods and their containers too (the Containers view groups them by pod; docs/cri.md). */
  async list(all = true, filters: string[] = [], opts?: CallOpts & { allNamespaces?: boolean }): Promise<ContainerSummary[]> {
    const { allNamespaces = false, ...call } = opts ?? {};
    return (await unary(this.containers, this.containers.list, { all, filters, allNamespaces }, call)).containers;
  }

  inspect(id: string, opts?: CallOpts): Promise<InspectContainerResponse> {
    return unary(this.containers, this.containers.inspect, { id }, opts);
  }

  /** Resolves with the exit code once the condition holds; abort `opts.signal` to stop waiting. */
  async wait(id: string, condition = 'not-running', opts: CallOpts = {}): Promise<number> {
    const response = await unary(this.containers, this.containers.wait, { id, condition }, { timeoutMs: Infinity, ...opts });
    return response.exitCode;
  }

  async prune(opts?: CallOpts): Promise<string[]> {
    return (await unary(this.containers, this.containers.prune, {}, lifecycle(opts))).removed;
  }

  /** What the container changed against its image (`docker diff`), parents before children. */
  async diff(container: string, opts?: CallOpts): Promise<DiffContainerResponse['changes']> {
    return (await unary(this.containers, this.containers.diff, { container }, { timeoutMs: Infinity, ...opts })).changes;
  }

  /** The container's merged root filesystem as tar bytes, in order. */
  async *export(container: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    for await (const chunk of serverStream(this.containers.export({ container }), signal)) yield Buffer.from(chunk.data);
  }

  top(id: string, opts?: CallOpts): Promise<TopContainerResponse> {
    return unary(this.containers, this.containers.top, { id }, opts);
  }

  stats(id: string, stream: boolean, signal?: AbortSignal): AsyncGenerator<ContainerStats> {
    return serverStream(this.containers.stats({ id, stream }), signal);
  }

  logs(id: string, options: LogsOptions = {}, signal?: AbortSignal): AsyncGenerator<LogEntry> {
    const request: LogsRequest = {
      id,
      follow: options.follow ?? false,
      tail: options.tail ?? 0,
      tailSet: options.tail !== undefined && options.tail >= 0,
      since: options.since,
      until: options.until,
      stdout: options.stdout ?? true,
      stderr: options.stderr ?? true,
    };
    return serverStream(this.containers.logs(request), signal);
  }

  attach(start: Partial<AttachStart> & { id: string }, signal?: AbortSignal): StdioSession<AttachRequest, AttachResponse> {
    const first: AttachRequest = {
      kind: { $case: 'start', value: { stdin: false, stdout: true, stderr: true, logsTail: 0, start: false, size: undefined, ...start } },
    };
    return new StdioSession(this.containers.attach(), first, signal);
  }

  exec(start: Partial<ExecStart> & { id: string; args: string[] }, signal?: AbortSignal): StdioSession<ExecRequest, ExecResponse> {
    const first: ExecRequest = {
      kind: {
        $case: 'start',
        value: { env: [], user: '', workingDir: '', tty: false, stdin: false, size: undefined, detach: false, ...start },
      },
    };
    return new StdioSession(this.containers.exec(), first, signal);
  }

  /**
   * One TCP connection to `port` inside the container's network namespace
   * (its 127.0.0.1), as a Duplex; flows/portForward.ts listens locally and
   * opens one per accepted connection.
   */
  portForward(id: string, port: number): PortForwardStream {
    return new PortForwardStream(this.containers.portForward(), id, port);
  }
}

type StdioRequest = AttachRequest | ExecRequest;

/**
 * One attach or exec call: `responses` yields what the daemon sends (ending
 * normally when it ends the call), `sendStdin`/`resize`/`closeStdin` feed
 * it. `cancel()` (or the signal) ends the call from our side.
 */
export class StdioSession<Req extends StdioRequest, Res> {
  constructor(
    private readonly call: ClientDuplexStream<Req, Res>,
    first: Req,
    private readonly signal?: AbortSignal,
  ) {
    call.write(first);
  }

  sendStdin(data: Uint8Array): boolean {
    return this.call.write({ kind: { $case: 'stdin', value: Buffer.from(data) } } as Req);
  }

  resize(rows: number, cols: number): void {
    this.call.write({ kind: { $case: 'resize', value: { rows, cols } } } as Req);
  }

  closeStdin(): void {
    this.call.write({ kind: { $case: 'closeStdin', value: true } } as Req);
  }

  cancel(): void {
    this.call.cancel();
  }

  async *responses(): AsyncGenerator<Res> {
    if (this.signal?.aborted) {
      this.call.cancel();
      return;
    }
    const cancel = () => this.call.cancel();
    this.signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of this.call) yield message as Res;
    } catch (e) {
      if (this.signal?.aborted) return;
      throw fromServiceError(e);
    } finally {
      this.signal?.removeEventListener('abort', cancel);
      this.call.end();
    }
  }
}

function lifecycle(opts: CallOpts = {}): CallOpts {
  return { timeoutMs: LIFECYCLE_TIMEOUT_MS, ...opts };
}

/** Every field of ContainerConfig, so callers only name what they set. */
export function fullConfig(config: Partial<ContainerConfig> & { image: string }): ContainerConfig {
  return {
    entrypoint: [],
    entrypointSet: false,
    cmd: [],
    env: [],
    workingDir: '',
    user: '',
    hostname: '',
    labels: {},
    mounts: [],
    tmpfs: [],
    readOnlyRootfs: false,
    memoryBytes: 0,
    nanoCpus: 0,
    pidsLimit: 0,
    capAdd: [],
    capDrop: [],
    network: '',
    restartPolicy: undefined,
    healthcheck: undefined,
    tty: false,
    openStdin: false,
    stopSignal: '',
    stopTimeout: 0,
    stopTimeoutSet: false,
    autoRemove: false,
    privileged: false,
    devices: [],
    cgroupns: '',
    seccompProfile: '',
    apparmorProfile: '',
    publish: [],
    publishAll: false,
    expose: [],
    dns: [],
    dnsSearch: [],
    dnsOptions: [],
    addHosts: [],
    macAddress: '',
    ip: '',
    networkAliases: [],
    connectedNetworks: [],
    primaryDisconnected: false,
    volumeMounts: [],
    volumesFrom: [],
    ...config,
  };
}
