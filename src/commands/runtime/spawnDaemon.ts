/**
 * How Start Runtime starts this machine's gantryd, without VS Code: the argv
 * and a detached spawn. Kept apart from the command so the start.sh test
 * (test/integration/scripts/start.test.ts) starts a daemon exactly as the
 * extension does.
 *
 * The environment the extension host inherits can shape it (scripts/start.sh
 * sets these for the workbench it opens):
 *   GANTRY_ROOT, GANTRY_STATE   the daemon's --root and --state (default: its own defaults)
 *   GANTRY_DAEMON_PIDS_FILE     a file the pid of each gantryd started here is
 *                               appended to, one per line, so whoever set it
 *                               (start.sh on Ctrl-C) can stop those daemons
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../../runtime/client';

/** The full argv (node first) of a daemon serving `socket`, with the dirs `env` names. */
export function daemonArgv(extensionPath: string, socket: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [...(env.GANTRY_ROOT ? ['--root', env.GANTRY_ROOT] : []), ...(env.GANTRY_STATE ? ['--state', env.GANTRY_STATE] : [])];
  return [process.execPath, ...DAEMON_NODE_FLAGS, path.join(extensionPath, 'dist', 'gantry.js'), 'daemon', ...dirs, '--socket', socket];
}

/**
 * Spawns `argv` detached (the daemon outlives the window, as dockerd outlives
 * the docker CLI), its output appended to `logFile`, and records its pid in
 * GANTRY_DAEMON_PIDS_FILE when that is set.
 */
export function spawnDaemon(argv: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [node, ...args] = argv;
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const logFd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(node, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      // VS Code desktop runs extensions in Electron; this makes it behave as plain Node. DAEMON_ENV: glibc's malloc settings.
      env: { ...env, ...DAEMON_ENV, ELECTRON_RUN_AS_NODE: '1' },
    });
  } finally {
    fs.closeSync(logFd);
  }
  child.unref();
  const record = env.GANTRY_DAEMON_PIDS_FILE;
  if (record && child.pid !== undefined) fs.appendFileSync(record, `${child.pid}\n`);
  return child;
}
