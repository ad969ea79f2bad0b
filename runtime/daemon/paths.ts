/**
 * Where gantryd keeps things (docs/architecture.md, "Defaults"). The state dir
 * and the socket in it come from the client package (runtime/client/socketPath.ts),
 * so the CLI, the extension and the daemon agree on the socket path.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultState, socketIn } from '../client/socketPath';

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

export function resolvePaths(flags: { root?: string; state?: string; socket?: string }): DaemonPaths {
  const root = path.resolve(flags.root ?? defaultRoot());
  const state = path.resolve(flags.state ?? defaultState());
  const socket = path.resolve(flags.socket ?? socketIn(state));
  return { root, state, socket };
}
