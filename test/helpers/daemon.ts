// A real gantryd for tests: dist/gantry.js started in temp dirs, plus a CLI
// runner that returns exit code and output instead of throwing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeClient } from '../../runtime/api/client';
import { startProcess, type Proc } from './proc';
import { makeTempDir, type Cleanup } from './tmp';

/** dist/gantry.js from the repo root (tests run from out/test/…). */
export const GANTRY_JS = path.resolve(__dirname, '../../../dist/gantry.js');

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

export class TestDaemon {
  private proc: Proc | undefined;

  constructor(
    readonly root: string,
    readonly state: string,
    readonly extraArgs: readonly string[] = [],
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
    const proc = startProcess(
      process.execPath,
      [GANTRY_JS, 'daemon', '--root', this.root, '--state', this.state, '--log-level', 'debug', ...this.extraArgs],
      { name: 'gantryd' },
    );
    this.proc = proc;
    const client = RuntimeClient.forSocket(this.socket);
    try {
      await proc.waitFor(
        () => fs.existsSync(this.socket) && client.version({ timeoutMs: 2_000 }).then(() => true, () => false),
        { what: `gantryd answering on ${this.socket}`, timeout: 30_000, interval: 100 },
      );
    } finally {
      client.close();
    }
    return this;
  }

  /** The CLI pointed at this daemon. */
  cli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
    return runGantry(['--socket', this.socket, ...args], opts);
  }

  client(): RuntimeClient {
    return RuntimeClient.forSocket(this.socket);
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
export async function startDaemon(cleanup: Cleanup, extraArgs: readonly string[] = []): Promise<TestDaemon> {
  const dir = await makeTempDir('gd', cleanup);
  const daemon = new TestDaemon(path.join(dir, 'root'), path.join(dir, 'state'), extraArgs);
  cleanup.defer(() => daemon.stop());
  return daemon.start();
}
