/**
 * Binding gantryd's sockets (the gantry.v1 API and the CRI) so they are never
 * reachable by "other" (docs/security.md).
 */
import * as fs from 'node:fs';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { failedPrecondition } from '../errdefs/errdefs';
import { rawSocketPath, type RawByteServer } from '../rawbytes/index';
import type { Logger } from '../util/log';

export const SOCKET_MODE = 0o660;

/**
 * Binds a gantryd socket so that it is never reachable by "other": the umask
 * gives it its final mode (0660) at creation, so no chmod follows that a
 * swapped-in symlink could redirect. When a `gantry` group exists it becomes
 * the socket's group (as `docker` does) through lchown, which never follows
 * a link. Membership of that group is equivalent to root.
 */
export async function bindPrivately(server: Server, socket: string): Promise<void> {
  const previous = process.umask(0o777 & ~SOCKET_MODE);
  try {
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
    });
  } finally {
    process.umask(previous);
  }
  const gid = groupId('gantry');
  if (gid !== undefined) fs.lchownSync(socket, process.getuid?.() ?? 0, gid);
  const stat = fs.lstatSync(socket);
  if (!stat.isSocket() || (stat.mode & 0o777) !== SOCKET_MODE) {
    throw failedPrecondition(
      `${socket} changed while gantryd was binding it (now ${stat.isSocket() ? `mode ${(stat.mode & 0o777).toString(8)}` : 'not a socket'}); refusing to serve on it`,
    );
  }
}

/**
 * Binds the raw socket beside the API socket with the same rules (mode 0660,
 * group `gantry` when it exists). Reads still work without it (over gRPC),
 * so a failure is logged, not fatal (docs/files.md, "Large reads").
 */
export async function listenRaw(raw: RawByteServer, apiSocket: string, log: Logger): Promise<void> {
  const path = rawSocketPath(apiSocket);
  await raw
    .listen(path, groupId('gantry'))
    .catch((e: unknown) => log.warn('raw socket not available; large reads go over gRPC', { path, error: e }));
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
