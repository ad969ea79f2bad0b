/**
 * Where gantryd keeps things (docs/architecture.md, "Defaults"). The CLI and the
 * extension use the same functions, so all three agree on the socket path.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export interface DaemonPaths {
  /** Persistent data: content, snapshots, metadata, the event log. */
  readonly root: string;
  /** Runtime state that dies with the machine: socket, runc state, conmon files. */
  readonly state: string;
  readonly socket: string;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (isRoot()) return '/var/lib/gantry';
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'gantry');
}

export function defaultState(env: NodeJS.ProcessEnv = process.env): string {
  if (isRoot()) return '/run/gantry';
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'gantry');
  return path.join(os.tmpdir(), `gantry-${process.getuid?.() ?? 'user'}`);
}

export function defaultSocket(env: NodeJS.ProcessEnv = process.env): string {
  return socketIn(defaultState(env));
}

export function socketIn(stateDir: string): string {
  return path.join(stateDir, 'gantry.sock');
}

export function resolvePaths(flags: { root?: string; state?: string; socket?: string }): DaemonPaths {
  const root = path.resolve(flags.root ?? defaultRoot());
  const state = path.resolve(flags.state ?? defaultState());
  const socket = path.resolve(flags.socket ?? socketIn(state));
  return { root, state, socket };
}
