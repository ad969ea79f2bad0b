/**
 * AF_UNIX SOCK_SEQPACKET client sockets, for conmon's attach socket.
 *
 * Node's `net` cannot open SOCK_SEQPACKET (connect fails with EPROTOTYPE), so
 * this wraps the npm package `node-unix-socket`, an N-API addon. Its binary
 * comes from a per-platform package (`node-unix-socket-linux-x64-gnu` …); the
 * esbuild bundle copies that file to `dist/native/` and requires it from
 * there (see esbuild.js), so the shipped gantryd needs no node_modules.
 *
 * The addon is loaded lazily, on the first attach or TTY exec: gantryd must
 * start — and serve everything else — on a host for which no binary shipped.
 * Only the features that need the socket then fail, with a FailedPrecondition
 * that names the platform.
 *
 * Socket paths are limited to 107 bytes (sun_path). A longer path is reached
 * through `/proc/self/fd/<dirfd>/<name>`, as conmon itself binds it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SeqpacketSocket } from 'node-unix-socket';
import { describe, failedPrecondition, unavailable } from '../errdefs/errdefs';

export type { SeqpacketSocket };

type SeqpacketModule = typeof import('node-unix-socket');

let loaded: SeqpacketModule | undefined;

/**
 * The addon, loaded on first use. `what` names the feature for the error
 * ("attach", "exec with a TTY").
 */
export function loadSeqpacket(what: string): SeqpacketModule {
  if (loaded) return loaded;
  try {
    // A plain require inside a function: esbuild keeps the module's body
    // (and so the dlopen of the binary) behind this call.
    loaded = require('node-unix-socket') as SeqpacketModule;
  } catch (e) {
    const firstLine = describe(e).split('\n')[0];
    throw failedPrecondition(
      `${what} needs node-unix-socket's native binary for ${process.platform}-${process.arch}, ` +
        `not found in ${path.join(__dirname, 'native')} or node_modules (${firstLine})`,
      e,
    );
  }
  return loaded;
}

const MAX_SUN_PATH = 107;

/**
 * Connects to the SOCK_SEQPACKET socket at `socketPath`. Rejects with
 * FailedPrecondition when nothing is there (for conmon: the container is
 * not running), Unavailable when the connect fails.
 */
export async function connectSeqpacket(socketPath: string, what: string): Promise<SeqpacketSocket> {
  const { SeqpacketSocket: Socket } = loadSeqpacket(what);
  try {
    await fs.promises.lstat(socketPath);
  } catch (e) {
    throw failedPrecondition(`${what}: no socket at ${socketPath}`, e);
  }
  const socket = new Socket();
  let dirFd: number | undefined;
  try {
    let target = socketPath;
    if (Buffer.byteLength(socketPath) > MAX_SUN_PATH) {
      dirFd = fs.openSync(path.dirname(socketPath), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      target = `/proc/self/fd/${dirFd}/${path.basename(socketPath)}`;
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      socket.once('error', onError);
      // connect(2) runs synchronously (and throws) here; 'connect' follows
      // once the socket is writable.
      socket.connect(target, () => {
        socket.off('error', onError);
        resolve();
      });
    });
  } catch (e) {
    socket.destroy();
    throw unavailable(`${what}: connect ${socketPath}: ${describe(e)}`, e);
  } finally {
    if (dirFd !== undefined) fs.closeSync(dirFd);
  }
  return socket;
}
