/**
 * Where a client finds this machine's gantryd: the socket path, by the same
 * rule the daemon uses for its default (docs/architecture.md, "Defaults"), so
 * the CLI, the extension and gantryd agree. The daemon imports `defaultState`
 * and `socketIn` from here (runtime/daemon/paths.ts), never the other way.
 */
import * as os from 'node:os';
import * as path from 'node:path';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * The daemon's default state dir: `/run/gantry` as root, else
 * `$XDG_RUNTIME_DIR/gantry`, else `gantry/run` under the user's state home
 * (`$XDG_STATE_HOME`, default `~/.local/state`). Never a fixed name in a
 * world-writable directory such as /tmp: another local user could create it
 * first and receive this user's calls (and registry credentials). A non-root
 * daemon creates it 0700 and refuses it unless it owns it
 * (runtime/util/privateDir.ts, docs/rootless.md).
 */
export function defaultState(env: NodeJS.ProcessEnv = process.env): string {
  if (isRoot()) return '/run/gantry';
  // The XDG spec: relative values are invalid and ignored.
  if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)) return path.join(env.XDG_RUNTIME_DIR, 'gantry');
  const stateHome =
    (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) && env.XDG_STATE_HOME) ||
    path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(stateHome, 'gantry', 'run');
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
