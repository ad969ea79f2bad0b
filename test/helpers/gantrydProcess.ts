// A real gantryd (the bundled dist/gantry.js) in temp dirs, for the suites
// that run the extension in code-server. Started outside VS Code, before it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './codeServer';
import { Proc, runCommand, startProcess } from './proc';

export const GANTRY_JS = path.join(REPO_ROOT, 'dist/gantry.js');

export interface TestDaemon {
  socket: string;
  /** The `server` part of `gantry version --json`: version, apiVersion, pid, ... */
  server: { version: string; apiVersion: string; pid?: number; [key: string]: unknown };
  proc: Proc;
  /** SIGTERM, then SIGKILL to its process group if it has not exited within 10 s. */
  stop(): Promise<void>;
}

/** Fails with the build command when dist/ is missing. */
export function requireBuild(): void {
  for (const f of [GANTRY_JS, path.join(REPO_ROOT, 'dist/extension.js')]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing; build first: node esbuild.js`);
  }
}

/** `gantry version --json` against `socket`; rejects if the daemon does not answer. */
export async function daemonVersion(socket: string): Promise<TestDaemon['server']> {
  const { stdout } = await runCommand(process.execPath, [GANTRY_JS, '--socket', socket, 'version', '--json'], {
    timeout: 10_000,
  });
  const server = JSON.parse(stdout).server;
  if (!server?.version) throw new Error(`gantry version --json printed no server version:\n${stdout}`);
  return server;
}

/** Starts `gantry daemon --root DIR/root --state DIR/state`; resolves once it answers `version`. */
export async function startTestDaemon(dir: string): Promise<TestDaemon> {
  requireBuild();
  const root = path.join(dir, 'root');
  const state = path.join(dir, 'state');
  const socket = path.join(state, 'gantry.sock');
  const proc = startProcess(process.execPath, [GANTRY_JS, 'daemon', '--root', root, '--state', state], {
    name: 'gantryd',
  });
  const stop = async () => {
    await proc.stop(10_000);
  };
  try {
    const server = await proc.waitFor(
      async () => (fs.existsSync(socket) ? daemonVersion(socket).catch(() => undefined) : undefined),
      { what: `gantryd answering on ${socket}`, timeout: 30_000, interval: 100 },
    );
    return { socket, server, proc, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
