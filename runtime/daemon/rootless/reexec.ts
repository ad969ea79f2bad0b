/**
 * The parent half of a rootless start (rootless.ts): check, prepare the
 * directories, find or start the namespace holder (holder.ts), run the same
 * `gantry daemon` inside its namespaces with nsenter, pass on SIGTERM/SIGINT,
 * exit with its code, and end the holder when no container needs it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { failedPrecondition } from '../../errdefs/errdefs';
import type { Logger } from '../../util/log';
import { ensurePrivateDir, PRIVATE_DIR_MODE } from '../../util/privateDir';
import { findHolder, startHolder, stopHolderIfIdle, type Holder } from './holder';
import { findTool, rootlessPrerequisites, tunUsable } from './prerequisites';
import { ROOTLESS_ENV, ROOTLESS_NET_ENV, ROOTLESSKIT_STATE_ENV, type RootlessNet } from './rootless';

/**
 * nsenter's arguments that run `command` in the holder's user, mount and
 * network namespaces. --preserve-credentials: the user owns that user
 * namespace, so it may join it as itself (uid 0 there), with no setgroups.
 * The network namespace only with slirp4netns: with --net=host the holder
 * shares the user's, which belongs to the initial user namespace and may not
 * be joined (nor needs to be). --wd: joining a mount namespace would
 * otherwise leave the command in `/`.
 */
export function nsenterArgs(nsPid: number, net: RootlessNet, cwd: string, command: readonly string[]): string[] {
  return [
    '--preserve-credentials',
    '-U',
    '-m',
    ...(net === 'slirp4netns' ? ['-n'] : []),
    '-t',
    String(nsPid),
    `--wd=${cwd}`,
    '--',
    ...command,
  ];
}

/**
 * Runs `gantry daemon argv` again inside the holder's namespaces and resolves
 * with its exit code. `paths` were resolved for this (non-root) user; they
 * are passed on as flags because inside the namespace the daemon is uid 0.
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
  const nsenter = findTool('nsenter') as string;
  // The state dir holds the socket: private to this user and verified (docs/rootless.md). The data root is private too.
  ensurePrivateDir(paths.state);
  if (path.dirname(paths.socket) !== paths.state) ensurePrivateDir(path.dirname(paths.socket));
  fs.mkdirSync(paths.root, { recursive: true, mode: PRIVATE_DIR_MODE });
  const script = process.argv[1];
  if (!script) throw failedPrecondition('cannot tell which gantry.js to run in the rootless namespaces');

  let holder: Holder | undefined = findHolder(paths.state, undefined, log);
  if (holder) {
    log.info('rootless: joining the running namespace holder', {
      holder: holder.pid,
      namespaces: holder.nsPid,
      net: holder.net,
      state: paths.state,
    });
  } else {
    const net: RootlessNet = tunUsable() ? 'slirp4netns' : 'host';
    if (net === 'host') {
      log.warn(
        'rootless: /dev/net/tun is not usable by this user, so the daemon shares your network (--net=host): bridge networking and -p are off; fix: chmod 0666 /dev/net/tun (as root)',
      );
    }
    holder = await startHolder(paths.state, net, log);
  }
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
  const child = spawn(nsenter, nsenterArgs(holder.nsPid, holder.net, process.cwd(), command), {
    stdio: 'inherit',
    // A process group of its own: a terminal's Ctrl-C (sent to the whole foreground group) reaches the daemon once,
    // through us, not twice (a second signal makes gantryd exit without waiting).
    detached: true,
    env: {
      ...process.env,
      [ROOTLESS_ENV]: '1',
      [ROOTLESS_NET_ENV]: holder.net,
      [ROOTLESSKIT_STATE_ENV]: holder.rootlesskitState,
    },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(failedPrecondition(`cannot start ${nsenter}: ${e.message}`)));
      child.once('exit', (c, signal) => resolve(c ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0)));
    });
  } finally {
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
    // Podman keeps its pause process; we end ours when nothing runs in it, so a stopped gantryd leaves nothing behind (docs/rootless.md).
    await stopHolderIfIdle(paths.state, holder, log).catch((e: unknown) =>
      log.warn('rootless: stopping the namespace holder failed', { error: e }),
    );
  }
}
