/**
 * Rootless gantryd (docs/rootless.md): `gantry daemon` started by a user
 * other than root re-executes itself under RootlessKit, which makes a user
 * namespace mapped to the user's subordinate ranges (uid 0 inside = the user,
 * 1…65536 = /etc/subuid's range, through newuidmap/newgidmap) and a mount
 * namespace, and runs the daemon in it as uid 0. Everything the rootful daemon
 * does then works on the IDs of that namespace: layers unpacked with their
 * real owners, kernel overlayfs, runc (which sees it is in a user namespace
 * and runs rootless), conmon.
 *
 * Two processes, one command:
 *   parent  (the user, outside): checks the prerequisites, makes the private
 *           state dir and the data root, spawns `rootlesskit … node gantry.js
 *           daemon … --root R --state S --socket P` with GANTRY_ROOTLESS=1,
 *           forwards SIGTERM/SIGINT and exits with the child's code
 *           (reexec.ts).
 *   child   (uid 0 in the namespace): `rootlessFromEnv` sees the marker and
 *           RootlessKit's state dir, and gantryd starts with `RootlessMode`.
 *
 * The paths are resolved by the parent only: inside the namespace uid is 0,
 * and the root defaults (/var/lib/gantry, /run/gantry) would be wrong.
 */
import { isInitialUserns, readUidMap } from '../../util/userNamespace';

export { isInitialUserns };

/** Set by the parent for the child: "this daemon runs under our RootlessKit". */
export const ROOTLESS_ENV = 'GANTRY_ROOTLESS';
/** Set by the parent: the network driver RootlessKit was given (`host` or `slirp4netns`). */
export const ROOTLESS_NET_ENV = 'GANTRY_ROOTLESS_NET';
/** Set by RootlessKit for its child: its state dir (api.sock, child_pid). */
export const ROOTLESSKIT_STATE_ENV = 'ROOTLESSKIT_STATE_DIR';

export type RootlessNet = 'host' | 'slirp4netns';

/** What a daemon running rootless knows about its namespace. */
export interface RootlessMode {
  /** RootlessKit's state dir (its API socket is `<dir>/api.sock`). */
  readonly rootlesskitState: string;
  /** The network RootlessKit gave the namespace: `host` shares the user's, so bridge networking is off. */
  readonly net: RootlessNet;
}

/**
 * The rootless mode of this process when it is the child of our RootlessKit
 * re-exec (the marker, RootlessKit's state dir, and a user namespace that is
 * not the initial one); undefined otherwise.
 */
export function rootlessFromEnv(env: NodeJS.ProcessEnv = process.env, uidMap = readUidMap()): RootlessMode | undefined {
  if (env[ROOTLESS_ENV] !== '1') return undefined;
  const rootlesskitState = env[ROOTLESSKIT_STATE_ENV];
  if (!rootlesskitState || isInitialUserns(uidMap)) return undefined;
  return { rootlesskitState, net: env[ROOTLESS_NET_ENV] === 'slirp4netns' ? 'slirp4netns' : 'host' };
}

/** Why bridge (CNI) networking is off in a rootless daemon that shares the user's network: for `info` and the error of a bridge run. */
export function rootlessNetworkUnavailable(_mode: RootlessMode): string {
  return (
    'rootless gantryd shares your network (RootlessKit --net=host) because /dev/net/tun is not usable by you, so bridge networks and -p are off; ' +
    'fix: as root, chmod 0666 /dev/net/tun, then restart gantryd (it then runs with slirp4netns)'
  );
}
