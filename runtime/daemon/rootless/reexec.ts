/**
 * The parent half of a rootless start (rootless.ts): check, prepare the
 * directories, run the same `gantry daemon` under RootlessKit, pass on
 * SIGTERM/SIGINT, and exit with its code.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { failedPrecondition } from '../../errdefs/errdefs';
import type { Logger } from '../../util/log';
import { ensurePrivateDir, PRIVATE_DIR_MODE } from '../../util/privateDir';
import { findTool, rootlessPrerequisites, tunUsable } from './prerequisites';
import { ROOTLESS_ENV, ROOTLESS_NET_ENV, type RootlessNet } from './rootless';

/** RootlessKit's own state dir (its lock, API socket and child pid), inside gantryd's private state dir. */
export function rootlesskitStateOf(state: string): string {
  return path.join(state, 'rootlesskit');
}

/** RootlessKit's arguments, as rootless containerd passes them (docs/rootless.md). */
export function rootlesskitArgs(state: string, net: RootlessNet, command: readonly string[]): string[] {
  return [
    `--state-dir=${rootlesskitStateOf(state)}`,
    `--net=${net}`,
    // The builtin port driver needs a network namespace of our own: only with slirp4netns.
    ...(net === 'slirp4netns'
      ? ['--port-driver=builtin', '--disable-host-loopback', '--slirp4netns-sandbox=auto', '--slirp4netns-seccomp=auto']
      : []),
    // /etc and /run are writable copies inside the namespace (resolv.conf, runc's and netns's files), as rootless containerd does.
    '--copy-up=/etc',
    '--copy-up=/run',
    '--',
    ...command,
  ];
}

/**
 * Runs `gantry daemon argv` again under RootlessKit and resolves with its exit
 * code. `paths` were resolved for this (non-root) user; they are passed on as
 * flags because inside the namespace the daemon is uid 0.
 */
export async function runRootless(
  argv: readonly string[],
  paths: { readonly root: string; readonly state: string; readonly socket: string },
  log: Logger,
): Promise<number> {
  const missing = rootlessPrerequisites().filter((p) => !p.ok);
  if (missing.length) {
    throw failedPrecondition(
      `gantryd cannot run rootless for uid ${process.getuid?.()}:\n${missing.map((p) => `  - ${p.name}: ${p.fix}`).join('\n')}\n` +
        'or run gantryd as root (see docs/rootless.md)',
    );
  }
  const rootlesskit = findTool('rootlesskit') as string;
  // The state dir holds the socket: private to this user and verified (docs/rootless.md). The data root is private too.
  ensurePrivateDir(paths.state);
  if (path.dirname(paths.socket) !== paths.state) ensurePrivateDir(path.dirname(paths.socket));
  fs.mkdirSync(paths.root, { recursive: true, mode: PRIVATE_DIR_MODE });
  const net: RootlessNet = tunUsable() ? 'slirp4netns' : 'host';
  if (net === 'host') {
    log.warn(
      'rootless: /dev/net/tun is not usable by this user, so the daemon shares your network (--net=host): bridge networking and -p are off; fix: chmod 0666 /dev/net/tun (as root)',
    );
  }
  const script = process.argv[1];
  if (!script) throw failedPrecondition('cannot tell which gantry.js to run under RootlessKit');
  const command = [
    process.execPath,
    ...process.execArgv,
    script,
    'daemon',
    ...argv,
    '--root',
    paths.root,
    '--state',
    paths.state,
    '--socket',
    paths.socket,
  ];
  log.info('rootless: starting gantryd under RootlessKit', { rootlesskit, net, state: paths.state, root: paths.root });
  const child = spawn(rootlesskit, rootlesskitArgs(paths.state, net, command), {
    stdio: 'inherit',
    // A process group of its own: a terminal's Ctrl-C (sent to the whole foreground group) reaches the daemon once,
    // through us and RootlessKit, not twice (a second signal makes gantryd exit without waiting).
    detached: true,
    env: { ...process.env, [ROOTLESS_ENV]: '1', [ROOTLESS_NET_ENV]: net },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(failedPrecondition(`cannot start ${rootlesskit}: ${e.message}`)));
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  }
}
