/**
 * connectRemote(): probe → deploy → proxy, returning a RemoteRuntime (see
 * remote.ts for the whole lifecycle). If any step fails, nothing of ours
 * keeps running: every ssh of the failed step is stopped, and the proxy only
 * exists once the daemon answered.
 */
import type { Ctx } from '../../context';
import { GantryError, invalidArgument, isGantryError } from '../../errdefs/errdefs';
import { deploy as deployTo } from './deploy';
import { discoversSocket, parseProbe, PROBE_SCRIPT, probeCniDirs } from './probe';
import { DialProxy } from './proxy';
import type { DeployResult, HostFacts, RemoteOptions, RemoteRuntime, SshOptions, SshTarget } from './remote';
import { remoteCommand, Ssh } from './ssh';
import { parseSshTarget } from './target';
import { GANTRY_VERSION } from '../../version';

/** Connects to `target` (a string as parseSshTarget reads it), deploying and starting gantryd if needed. */
export async function connectRemote(ctx: Ctx, target: string | SshTarget, opts: RemoteOptions = {}): Promise<RemoteRuntime> {
  const ssh = new Ssh(typeof target === 'string' ? parseSshTarget(target) : target, opts);
  const { facts, result } = await deployTo(ctx, ssh, await probeHost(ctx, ssh, probeCniDirs(opts.daemonArgs)), opts);
  const runtime = new SshRemoteRuntime(ssh, opts, facts, result);
  await runtime.listen();
  return runtime;
}

/** One round trip: what the host has (probe.ts). `cniDirs`: where the daemon would look for CNI plugins (probeCniDirs). */
export async function probeHost(ctx: Ctx, ssh: Ssh, cniDirs = probeCniDirs()): Promise<HostFacts> {
  const res = await ssh.run(ctx, remoteCommand(['/bin/sh', '-s', '--', GANTRY_VERSION, cniDirs]), {
    input: PROBE_SCRIPT,
    timeoutMs: 60_000,
    what: 'probing the host',
  });
  if (res.code !== 0) {
    throw new GantryError('Unavailable', `probing ${ssh.label} failed (exit ${res.code}): ${res.stderr.trim() || 'no message'}`, {
      transport: true,
    });
  }
  return parseProbe(res.stdout);
}

/** SshOptions from the environment (the CLI's GANTRY_SSH_* variables). */
export function sshOptionsFromEnv(env: NodeJS.ProcessEnv): SshOptions {
  const seconds = (name: string): number | undefined => {
    const v = env[name];
    if (!v) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw invalidArgument(`${name} must be a whole number of seconds ≥ 1, not "${v}"`);
    return Number(v);
  };
  return {
    configFile: env.GANTRY_SSH_CONFIG || undefined,
    connectTimeoutSec: seconds('GANTRY_SSH_CONNECT_TIMEOUT'),
    aliveIntervalSec: seconds('GANTRY_SSH_ALIVE_INTERVAL'),
    aliveCountMax: seconds('GANTRY_SSH_ALIVE_COUNT'),
  };
}

class SshRemoteRuntime implements RemoteRuntime {
  private proxy: DialProxy | undefined;
  private last: GantryError | undefined;
  private closed = false;

  constructor(
    private readonly ssh: Ssh,
    private readonly opts: RemoteOptions,
    public facts: HostFacts,
    public deploy: DeployResult,
  ) {}

  get target(): SshTarget {
    return this.ssh.target;
  }

  get label(): string {
    return this.ssh.label;
  }

  get socketPath(): string {
    if (!this.proxy) throw new GantryError('FailedPrecondition', `the connection to ${this.label} is not set up`);
    return this.proxy.socketPath;
  }

  get grpcTarget(): string {
    return `unix:${this.socketPath}`;
  }

  async listen(): Promise<void> {
    this.proxy = await DialProxy.listen({
      ssh: this.ssh,
      command: () => this.dialCommand(),
      onSessionEnd: (error) => {
        this.last = error;
      },
    });
  }

  private dialCommand(): string {
    const sudo = this.facts.viaSudo ? ['sudo', '-n'] : [];
    // A rootless login's dial-stdio finds the daemon as the CLI there does (GANTRY_SOCKET, the user's, the system's).
    const socket = discoversSocket(this.facts) ? [] : ['--socket', this.facts.socket];
    return remoteCommand([...sudo, this.deploy.node, this.deploy.gantryJs, ...socket, 'dial-stdio']);
  }

  private requireProxy(): DialProxy {
    if (!this.proxy || this.closed) throw new GantryError('FailedPrecondition', `the connection to ${this.label} is closed`);
    return this.proxy;
  }

  async ensureDaemon(ctx: Ctx): Promise<DeployResult> {
    this.requireProxy();
    const { facts, result } = await deployTo(ctx, this.ssh, await probeHost(ctx, this.ssh, probeCniDirs(this.opts.daemonArgs)), this.opts);
    this.facts = facts;
    this.deploy = result;
    this.last = undefined;
    return result;
  }

  lastError(): GantryError | undefined {
    return this.last;
  }

  translate(e: unknown): unknown {
    if (!isGantryError(e) || !e.transport) return e;
    if (this.last) return this.last;
    return new GantryError(e.kind, `lost the connection to gantryd on ${this.label} (${e.message})`, { cause: e, transport: true });
  }

  get sshPids(): number[] {
    return this.proxy?.sessionPids ?? [];
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.proxy?.close();
  }
}
