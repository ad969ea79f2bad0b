/**
 * Binding gantryd's sockets (the gantry.v1 API and the CRI) so they are never
 * reachable by "other" (docs/security.md).
 */
import * as fs from 'node:fs';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { failedPrecondition } from '../errdefs/errdefs';

export const SOCKET_MODE = 0o660;

/**
 * Binds a gantryd socket so that it is never reachable by "other": the umask
 * gives it its final mode (0660) at creation, so no chmod follows that a
 * swapped-in symlink could redirect. When a `gantry` group exists it becomes
 * the socket's group (as `docker` does) through lchown, which never follows
 * a link. Membership of that group is equivalent to root.
 */
export async function bindPrivately(server: Server, socket: string, opts: { group?: boolean } = {}): Promise<void> {
  const previous = process.umask(0o777 & ~SOCKET_MODE);
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
    });
  } finally {
    process.umask(previous);
  }
  // Not for a rootless daemon (opts.group false): the group is not mapped in its namespace, and the socket is its user's alone.
  const gid = opts.group === false ? undefined : groupId('gantry');
  if (gid !== undefined) fs.lchownSync(socket, process.getuid?.() ?? 0, gid);
  const stat = fs.lstatSync(socket);
  if (!stat.isSocket() || (stat.mode & 0o777) !== SOCKET_MODE) {
    throw failedPrecondition(
      `${socket} changed while gantryd was binding it (now ${stat.isSocket() ? `mode ${(stat.mode & 0o777).toString(8)}` : 'not a socket'}); refusing to serve on it`,
    );
  }
}

function groupId(name: string): number | undefined {
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
