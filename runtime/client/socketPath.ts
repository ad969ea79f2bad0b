/**
 * Where a client finds this machine's gantryd: the socket path, by the same
 * rule the daemon uses for its default (docs/architecture.md, "Defaults"), so
 * the CLI, the extension and gantryd agree. The daemon imports `defaultState`
 * and `socketIn` from here (runtime/daemon/paths.ts), never the other way.
 */
import * as os from 'node:os';
import * as path from 'node:path';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The daemon's default state dir: `/run/gantry` as root, else under XDG_RUNTIME_DIR or the temp dir. */
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

/** The CLI's socket when no --socket is given: GANTRY_SOCKET, else the default. */
export function socketFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.GANTRY_SOCKET || defaultSocket(env);
}
