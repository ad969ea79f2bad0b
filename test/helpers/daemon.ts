// A real gantryd for tests: dist/gantry.js started in temp dirs, plus a CLI
// runner that returns exit code and output instead of throwing. Used by the
// integration tests and by the runners of the VS Code and UI suites, which
// start one before code-server.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeClient } from '../../runtime/client/client';
import type { VersionResponse } from '../../runtime/api/gen/gantry/v1/version';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../runtime/client/daemonFlags';
import { unmountAll } from '../../runtime/mount/mounter';
import { background } from '../../runtime/context';
import { createNetworkManager } from '../../runtime/network/index';
import { removeBridge } from '../../runtime/network/bridges';
import { releaseNetnsDir } from '../../runtime/network/netns';
import { runCommand, startProcess, type Proc } from './proc';
import { makeTempDir, type Cleanup } from './tmp';

/** dist/gantry.js from the repo root (tests run from out/test/…). */
export const GANTRY_JS = path.resolve(__dirname, '../../../dist/gantry.js');
/** dist/extension.js: what the VS Code suites load. */
export const EXTENSION_JS = path.resolve(__dirname, '../../../dist/extension.js');

/** The `server` part of `gantry version --json`: version, apiVersion, pid, socket, root, … */
export type ServerVersion = VersionResponse;

/** Fails with the build command when a bundle is missing (default: both). */
export function requireBuild(files: readonly string[] = [GANTRY_JS, EXTENSION_JS]): void {
  for (const f of files) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing; build first: node esbuild.js`);
  }
}

/**
 * `gantry --socket SOCKET version --json`, parsed: the daemon's `server`
 * object. Rejects when the daemon does not answer.
 */
export async function daemonVersion(socket: string, opts: CliOptions = {}): Promise<ServerVersion> {
  const res = await runGantry(['--socket', socket, 'version', '--json'], { timeout: 10_000, ...opts });
  if (res.code !== 0) {
    throw new Error(`gantry version --json on ${socket} exited ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`);
  }
  let server: ServerVersion | undefined;
  try {
    server = (JSON.parse(res.stdout) as { server?: ServerVersion }).server;
  } catch (e) {
    throw new Error(`gantry version --json printed no JSON (${(e as Error).message}):\n${res.stdout}`);
  }
  if (!server?.version) throw new Error(`gantry version --json printed no server version:\n${res.stdout}`);
  return server;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeout?: number;
}

/** Runs `node dist/gantry.js ARGS…` to completion. */
export async function runGantry(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const proc = startProcess(process.execPath, [GANTRY_JS, ...args], {
    env: opts.env ?? process.env,
    stdin: opts.input !== undefined,
    name: `gantry ${args.join(' ')}`,
  });
  if (opts.input !== undefined) proc.child.stdin!.end(opts.input);
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeout ?? 60_000);
  const status = await proc.waitForExit();
  clearTimeout(timer);
  await new Promise((resolve) => setImmediate(resolve));
  return { code: status.code, stdout: proc.stdout, stderr: proc.stderr };
}

/**
 * The default network of a test daemon: a bridge and a /24 of its own, from
 * its root (so a restarted daemon gets the same), in 10.208.0.0/13 — the
 * network core's own tests choose from 10.200.0.0/13 — so daemons never
 * share one (docs/networking.md).
 */
export function testNetwork(root: string): { bridge: string; subnet: string } {
  const h = createHash('sha256').update(path.resolve(root)).digest();
  return { bridge: `gtd${h.subarray(0, 4).toString('hex').slice(0, 7)}`, subnet: `10.${208 + (h[4] & 7)}.${h[5]}.0/24` };
}

export class TestDaemon {
  private proc: Proc | undefined;

  constructor(
    readonly root: string,
    readonly state: string,
    readonly extraArgs: readonly string[] = [],
    /** The daemon's environment (default: this process's), e.g. with DOCKER_CONFIG. */
    readonly env?: NodeJS.ProcessEnv,
  ) {}

  get socket(): string {
    return path.join(this.state, 'gantry.sock');
  }

  get process(): Proc {
    if (!this.proc) throw new Error('daemon not started');
    return this.proc;
  }

  /** Starts gantryd and waits until it answers Version over its socket. */
  async start(): Promise<this> {
    requireBuild([GANTRY_JS]);
    const net = testNetwork(this.root);
    const proc = startProcess(
      process.execPath,
      [
        ...DAEMON_NODE_FLAGS,
        GANTRY_JS,
        'daemon',
        '--root',
        this.root,
        '--state',
        this.state,
        '--log-level',
        'debug',
        '--bridge',
        net.bridge,
        '--bridge-subnet',
        net.subnet,
        ...this.extraArgs,
      ],
      { name: 'gantryd', env: { ...(this.env ?? process.env), ...DAEMON_ENV } },
    );
    this.proc = proc;
    const client = RuntimeClient.forSocket(this.socket);
    try {
      await proc.waitFor(
        () =>
          fs.existsSync(this.socket) &&
          client.system.version({ timeoutMs: 2_000 }).then(
            () => true,
            () => false,
          ),
        { what: `gantryd answering on ${this.socket}`, timeout: 30_000, interval: 100 },
      );
    } catch (e) {
      await proc.stop(10_000);
      throw e;
    } finally {
      client.close();
    }
    return this;
  }

  /** The parsed `server` object of `gantry version --json` against this daemon. */
  version(): Promise<ServerVersion> {
    return daemonVersion(this.socket);
  }

  /** The CLI pointed at this daemon. */
  cli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
    return runGantry(['--socket', this.socket, ...args], opts);
  }

  client(): RuntimeClient {
    return RuntimeClient.forSocket(this.socket);
  }

  /** `rm -f` of every container this daemon has (best effort: containers outlive the daemon). */
  async removeAllContainers(): Promise<void> {
    if (!this.proc || this.proc.exitStatus) return;
    await removeContainers(this.socket);
  }

  /** SIGTERM and wait (a clean shutdown). */
  async stop(): Promise<void> {
    if (this.proc && !this.proc.exitStatus) await this.proc.stop(10_000);
  }

  /** SIGKILL: the daemon gets no chance to clean up. */
  async kill(): Promise<void> {
    if (!this.proc || this.proc.exitStatus) return;
    this.proc.kill('SIGKILL');
    await this.proc.waitForExit();
  }
}

/** A started daemon in fresh temp dirs, stopped and removed by `cleanup`. */
export async function startDaemon(
  cleanup: Cleanup,
  extraArgs: readonly string[] = [],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<TestDaemon> {
  const dir = await makeTempDir('gd', cleanup);
  const daemon = new TestDaemon(path.join(dir, 'root'), path.join(dir, 'state'), extraArgs, opts.env);
  cleanup.defer(() => removeLeftovers(dir, daemon.root));
  cleanup.defer(() => daemon.stop());
  cleanup.defer(() => daemon.removeAllContainers());
  return daemon.start();
}

/**
 * `rm -f` of every container of the daemon on `socket`, best effort: when it
 * does not answer, removeLeftovers deals with what its containers left.
 */
export async function removeContainers(socket: string): Promise<void> {
  const client = RuntimeClient.forSocket(socket);
  try {
    // CRI pods and containers (namespace k8s.io) are listed only when asked for.
    const all = [
      ...(await client.containers.list(true, [], { timeoutMs: 10_000 })),
      ...(await client.containers.list(true, ['namespace=k8s.io'], { timeoutMs: 10_000 })),
    ];
    for (const c of all) {
      await client.containers.remove(c.id, true).catch(() => undefined);
    }
  } catch {
    // not answering
  } finally {
    client.close();
  }
}

/**
 * Whatever a test's containers left under `dir` once the daemon is gone:
 * conmons and their tasks (found by the runc root in their argv), runc
 * state and mounts — so the temp dir can be removed and nothing keeps running.
 */
export async function removeLeftovers(dir: string, root = path.join(dir, 'root')): Promise<void> {
  const runcRoot = path.join(dir, 'state', 'runc');
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '') === 'conmon' && argv.some((a) => a.includes(runcRoot))) {
      const cid = argv[argv.indexOf('-c') + 1];
      if (cid) await runCommand('runc', ['--root', runcRoot, 'kill', cid, 'KILL']).catch(() => undefined);
    }
  }
  if (fs.existsSync(runcRoot)) {
    for (const id of fs.readdirSync(runcRoot)) {
      await runCommand('runc', ['--root', runcRoot, 'delete', '-f', id]).catch(() => undefined);
    }
  }
  await releaseNetworks(root, path.join(dir, 'state'), testNetwork(root).bridge).catch(() => undefined);
  await unmountAll(dir);
}

/**
 * What a stopped or killed daemon's containers left attached, its networks'
 * bridges with their isolation rules, and its netns directory's mount.
 * `defaultBridge`: the bridge name the daemon was started with.
 */
export async function releaseNetworks(root: string, state: string, defaultBridge?: string): Promise<void> {
  if (!fs.existsSync(path.join(root, 'networks'))) return;
  const manager = createNetworkManager({ root, state, defaultBridge });
  for (const a of await manager.listAttachments()) await manager.detach(background(), a.containerId).catch(() => undefined);
  for (const n of await manager.listNetworks()) {
    if (n.builtin) await removeBridge(n.bridge).catch(() => undefined);
    else if (!n.readOnly) await manager.removeNetwork(background(), n.name).catch(() => undefined);
  }
  await releaseNetnsDir(path.join(state, 'netns')).catch(() => undefined);
}
