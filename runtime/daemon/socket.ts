/**
 * Binding gantryd's sockets (the gantry.v1 API and the CRI) so they are never
 * reachable by "other" (docs/security.md), and serving on a socket systemd
 * passed in (socket activation, docs/service.md).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import { rawSocketPath, type RawByteServer } from '../rawbytes/index';
import type { Logger } from '../util/log';

export const SOCKET_MODE = 0o660;

/** The group the API socket gets when one of that name exists and no `--group` is given (as dockerd's `docker`). */
export const DEFAULT_SOCKET_GROUP = 'gantry';

/** systemd's first passed descriptor (sd_listen_fds(3): SD_LISTEN_FDS_START). */
const SD_LISTEN_FDS_START = 3;

export interface BindOptions {
  /**
   * The socket's group. undefined: `gantry` when that group exists (else the
   * daemon's own); a name that does not exist is an error (`--group`); false:
   * none (a rootless daemon: no host group is mapped in its namespace, and the
   * socket is its user's alone).
   */
  readonly group?: string | false;
  /** Serve on this already-listening descriptor (systemd socket activation) instead of binding the path. */
  readonly listenFd?: number;
}

/**
 * Binds a gantryd socket so that it is never reachable by "other": the umask
 * gives it its final mode (0660) at creation, so no chmod follows that a
 * swapped-in symlink could redirect. Its group (the `gantry` group, as `docker`
 * does, or `--group`) is set through lchown, which never follows a link.
 * Membership of that group is equivalent to root.
 *
 * With `listenFd` the socket is systemd's (the unit's SocketMode and
 * SocketGroup set its permissions): gantryd accepts on the descriptor and
 * hands each connection to the gRPC server. Resolves to what must run when the
 * server stops.
 */
export async function bindPrivately(server: Server, socket: string, options: BindOptions = {}): Promise<() => void> {
  const gid = socketGid(options.group);
  if (options.listenFd !== undefined) return serveOnFd(server, options.listenFd);
  const previous = process.umask(0o777 & ~SOCKET_MODE);
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
    });
  } finally {
    process.umask(previous);
  }
  if (gid !== undefined) fs.lchownSync(socket, process.getuid?.() ?? 0, gid);
  const stat = fs.lstatSync(socket);
  if (!stat.isSocket() || (stat.mode & 0o777) !== SOCKET_MODE) {
    throw failedPrecondition(
      `${socket} changed while gantryd was binding it (now ${stat.isSocket() ? `mode ${(stat.mode & 0o777).toString(8)}` : 'not a socket'}); refusing to serve on it`,
    );
  }
  return () => undefined;
}

/**
 * The listening descriptor systemd passed (LISTEN_PID is this process,
 * LISTEN_FDS ≥ 1), or undefined. The variables are removed, as
 * sd_listen_fds(1) does, so conmon, runc and the CNI plugins do not inherit
 * them.
 */
export function takeSystemdListenFd(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const fds = Number(env.LISTEN_FDS);
  const forUs = env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) === pid;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (!forUs || !Number.isInteger(fds) || fds < 1) return undefined;
  if (fds > 1) throw invalidArgument(`systemd passed ${fds} sockets; gantryd serves its API on one (ListenStream= once in gantryd.socket)`);
  return SD_LISTEN_FDS_START;
}

async function serveOnFd(server: Server, fd: number): Promise<() => void> {
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const listener = net.createServer((conn) => injector.injectConnection(conn));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (e: NodeJS.ErrnoException) =>
      reject(failedPrecondition(`cannot serve on the socket systemd passed (fd ${fd}): ${e.message}`)),
    );
    listener.listen({ fd }, () => resolve());
  });
  return () => {
    listener.close();
    injector.destroy();
  };
}

/**
 * Binds the raw socket beside the API socket with the same rules (mode 0660,
 * the API socket's group). Reads still work without it (over gRPC), so a
 * failure is logged, not fatal (docs/files.md, "Large reads").
 */
export async function listenRaw(raw: RawByteServer, apiSocket: string, log: Logger, group?: string | false): Promise<void> {
  const path = rawSocketPath(apiSocket);
  await raw
    .listen(path, socketGid(group))
    .catch((e: unknown) => log.warn('raw socket not available; large reads go over gRPC', { path, error: e }));
}

/** The gid a socket gets for a `group` option (BindOptions.group). */
function socketGid(group: string | false | undefined): number | undefined {
  return group === false ? undefined : group === undefined ? groupId(DEFAULT_SOCKET_GROUP) : requireGroup(group);
}

function requireGroup(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const gid = groupId(name);
  if (gid === undefined) throw invalidArgument(`--group ${name}: no such group (create it with: groupadd --system ${name})`);
  return gid;
}

/** The gid of group `name` in /etc/group, or undefined. */
export function groupId(name: string): number | undefined {
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const [group, , gid] = line.split(':');
      if (group === name && gid) return Number(gid);
    }
  } catch {
    // no /etc/group: no such group
  }
  return undefined;
}
