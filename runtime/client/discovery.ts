/**
 * Which gantryd a client on this machine talks to (docs/security.md,
 * "Finding the daemon"), in a fixed order:
 *
 *   1. `--socket PATH` (the caller's flag), then `GANTRY_SOCKET`: taken as given;
 *   2. the user's own (rootless) daemon at `defaultSocket()`, if one answers;
 *   3. the system daemon at `/run/gantry/gantry.sock`, if one answers and the
 *      user may connect (root, or a member of the socket's group, `gantry`).
 *
 * A socket found in 2 or 3 is used only when it passes the check credentials
 * get (client/socketTrust.ts: root's or the user's, in directories no one
 * else can change): another user may have created the user's socket dir
 * first, and would then get every call, not just the ones with credentials.
 *
 * For root, (2) and (3) are the same socket. When nothing answers, the
 * result is the first place tried, with why each place failed, so the error
 * can name them all.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { defaultSocket } from './socketPath';
import { socketDistrust } from './socketTrust';
import { groupName } from '../system/identity';

/** The rootful system daemon's socket (runtime/daemon/paths.ts as root; docs/service.md). */
export const SYSTEM_SOCKET = '/run/gantry/gantry.sock';

/** How the socket was chosen: `gantry info` shows it. */
export type SocketSource = 'flag' | 'env' | 'user' | 'system';

export interface TriedSocket {
  readonly socket: string;
  readonly source: SocketSource;
  /** Why it was not used: "no such socket", "connection refused", "permission denied; …", or why it is not trusted. */
  readonly reason: string;
}

export interface DiscoveredSocket {
  readonly socket: string;
  readonly source: SocketSource;
  /** False when no daemon answered anywhere: `socket` is then the first place tried. */
  readonly found: boolean;
  /** The places that did not answer, in order. */
  readonly tried: readonly TriedSocket[];
}

/** Resolves to undefined when a daemon accepts a connection at `socket`, else why not. */
export type SocketProbe = (socket: string) => Promise<string | undefined>;

export interface DiscoveryOptions {
  /** `--socket` as given on the command line (or the extension's setting). */
  readonly flag?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly probe?: SocketProbe;
  readonly systemSocket?: string;
  /** The user's own daemon's socket (default: defaultSocket(env), the rule of this process's user). */
  readonly ownSocket?: string;
  /** Why a socket that answers must not be used (default: socketDistrust, client/socketTrust.ts). */
  readonly distrust?: (socket: string) => string | undefined;
}

export async function discoverSocket(options: DiscoveryOptions = {}): Promise<DiscoveredSocket> {
  const env = options.env ?? process.env;
  if (options.flag) return { socket: options.flag, source: 'flag', found: true, tried: [] };
  if (env.GANTRY_SOCKET) return { socket: env.GANTRY_SOCKET, source: 'env', found: true, tried: [] };
  const probe = options.probe ?? probeSocket;
  const system = options.systemSocket ?? SYSTEM_SOCKET;
  const own = options.ownSocket ?? defaultSocket(env);
  const candidates: Array<{ socket: string; source: SocketSource }> =
    own === system
      ? [{ socket: system, source: 'system' }]
      : [
          { socket: own, source: 'user' },
          { socket: system, source: 'system' },
        ];
  const tried: TriedSocket[] = [];
  const distrust = options.distrust ?? ((socket: string) => socketDistrust(socket));
  for (const candidate of candidates) {
    // A place found by looking, not named by the user, must be root's or the user's: another user may have got there first.
    const reason = (await probe(candidate.socket)) ?? distrust(candidate.socket);
    if (reason === undefined) return { ...candidate, found: true, tried };
    tried.push({ ...candidate, reason });
  }
  return { ...candidates[0], found: false, tried };
}

/** Connects and hangs up at once: nothing is sent. */
export function probeSocket(socket: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    conn.once('connect', () => {
      conn.destroy();
      resolve(undefined);
    });
    conn.once('error', (e: NodeJS.ErrnoException) => resolve(unreachableReason(socket, e.code ?? e.message)));
  });
}

/** "no such socket", "connection refused", or a permission error that names the group that would let the user in. */
export function unreachableReason(socket: string, code: string): string {
  if (code === 'ENOENT') return 'no such socket';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied${groupHint(socket)}`;
  return code;
}

/**
 * Why this user may not connect to `socket`, naming its group when the
 * group may: "; the socket is for group gantry (mode 0660) and you are not in
 * it: …". Empty when nothing more can be said.
 */
export function groupHint(socket: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(socket);
  } catch (e) {
    // The directory above refuses us (e.g. a 0700 state dir of another user).
    return (e as NodeJS.ErrnoException).code === 'EACCES' ? ' (a directory above it is closed to you)' : '';
  }
  const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
  if ((stat.mode & 0o060) !== 0o060) return `; the socket is mode ${mode}: only its owner may connect`;
  const group = groupName(stat.gid) ?? String(stat.gid);
  const inGroup = process.getgroups?.().includes(stat.gid) || process.getegid?.() === stat.gid;
  if (inGroup) return `; the socket is for group ${group} (mode ${mode}) and you are in it: log in again so the membership applies`;
  const user = os.userInfo().username;
  return `; the socket is for group ${group} (mode ${mode}) and you are not in it. An administrator can add you with 'usermod -aG ${group} ${user}' (then log in again); members of ${group} are equivalent to root on this machine`;
}

/** What `gantry info` prints beside the socket. */
export function describeSource(source: SocketSource): string {
  switch (source) {
    case 'flag':
      return 'from --socket';
    case 'env':
      return 'from GANTRY_SOCKET';
    case 'user':
      return 'your own daemon';
    case 'system':
      return 'the system daemon';
  }
}
