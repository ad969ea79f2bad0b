/**
 * The CRI's place in gantryd: its own gRPC server on its own socket
 * (`--cri-socket`, default `<state>/cri.sock`; off with `--cri=false`),
 * bound with the same rules as the main socket (socket.ts), fed by the same
 * image store and puller as the gantry.v1 API. See docs/cri.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Server } from '@grpc/grpc-js';
import type { HandlerAdapter } from '../api/server';
import type { CriDeps } from '../cri/cri';
import { criServices } from '../cri/server';
import type { Logger } from '../util/log';
import { bindPrivately } from './socket';
import { clearStaleSocket } from './singleInstance';

const SHUTDOWN_GRACE_MS = 5_000;

/** The CRI socket's default place: beside the main socket in the state dir. */
export function defaultCriSocket(state: string): string {
  return path.join(state, 'cri.sock');
}

export interface CriServer {
  readonly socket: string;
  /** Stops serving (in-flight calls get a grace period) and removes the socket. Idempotent. */
  close(): Promise<void>;
}

export async function startCri(socket: string, adapt: HandlerAdapter, deps: CriDeps, log: Logger): Promise<CriServer> {
  fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o711 });
  if ((await clearStaleSocket(socket)) === 'replaced') log.warn('replaced a stale CRI socket', { socket });
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  for (const service of criServices(adapt, deps)) server.addService(service.definition, service.implementation);
  await bindPrivately(server, socket);
  log.info('CRI serving', { socket });
  let closing: Promise<void> | undefined;
  return {
    socket,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }).then(() => fs.rmSync(socket, { force: true }))),
  };
}
