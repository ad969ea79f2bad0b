/**
 * Port forwarding without publishing (docs/networking.md, "Port
 * forwarding"), the way `kubectl port-forward` does it: listen on local
 * ports, and for every accepted connection open one PortForward call, which
 * gantryd connects to the port inside the container's network namespace.
 * The same over SSH: the call travels on the client's channel. Used by
 * `gantry port-forward` and the extension's Forward Port; it prints nothing.
 */
import * as net from 'node:net';
import { failedPrecondition, invalidArgument, isGantryError, type GantryError } from '../../errdefs/errdefs';
import { fromServiceError } from '../../errdefs/grpc';
import { ContainerStatus } from '../../api/gen/gantry/v1/containers';
import type { RuntimeClient } from '../client';
import type { PortForwardStream } from '../portForwardStream';

export interface PortForwardSpec {
  /** The local port; undefined = the same number as `remote`, 0 = a free one. */
  readonly local?: number;
  readonly remote: number;
}

export interface ForwardedPort {
  readonly address: string;
  readonly local: number;
  readonly remote: number;
}

export interface PortForwardOptions {
  readonly client: RuntimeClient;
  /** Name, ID or unique ID prefix; must be running. */
  readonly container: string;
  readonly ports: readonly PortForwardSpec[];
  /** The local address to listen on; default 127.0.0.1. */
  readonly address?: string;
  /** A connection failed (nothing listening, the container stopped, the link dropped); its local connection is closed, forwarding goes on. */
  readonly onError?: (error: GantryError, port: ForwardedPort) => void;
  /** A local connection was accepted and handed on. */
  readonly onConnection?: (port: ForwardedPort) => void;
}

export interface PortForwarding {
  readonly containerId: string;
  readonly containerName: string;
  /** What listens, in the order asked, with the local ports chosen for 0. */
  readonly listening: readonly ForwardedPort[];
  /** Connections open now. */
  readonly connections: () => number;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/** "8080:80" → {local 8080, remote 80}; "80" → {remote 80}; ":80" or "0:80" → a free local port. */
export function parsePortForwardSpec(text: string): PortForwardSpec {
  const m = /^(?:(\d{0,5}):)?(\d{1,5})$/.exec(text.trim());
  const port = (s: string) => {
    const n = Number(s);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
  };
  const remote = m ? port(m[2]) : undefined;
  const local = m?.[1] === undefined ? undefined : m[1] === '' ? 0 : port(m[1]);
  if (!m || !remote || (m[1] !== undefined && local === undefined)) {
    throw invalidArgument(`invalid port "${text}": want [LOCAL:]REMOTE, ports 1-65535 (LOCAL 0 = any free port)`);
  }
  return { local, remote };
}

export async function forwardPorts(opts: PortForwardOptions): Promise<PortForwarding> {
  if (!opts.ports.length) throw invalidArgument('port-forward needs at least one port');
  const { container } = await opts.client.containers.inspect(opts.container);
  if (!container) throw failedPrecondition(`container ${opts.container} not found`);
  if (container.status !== ContainerStatus.CONTAINER_STATUS_RUNNING) {
    throw failedPrecondition(`container ${container.name} is not running`);
  }
  const address = opts.address ?? '127.0.0.1';
  const servers: net.Server[] = [];
  const open = new Set<{ socket: net.Socket; remote: PortForwardStream }>();
  const listening: ForwardedPort[] = [];
  try {
    for (const spec of opts.ports) {
      const server = net.createServer({ allowHalfOpen: true });
      servers.push(server);
      const bound = await listen(server, address, spec.local ?? spec.remote);
      const port: ForwardedPort = { address, local: bound, remote: spec.remote };
      listening.push(port);
      server.on('connection', (socket) => {
        const entry = { socket, remote: connect(opts, container.id, socket, port) };
        open.add(entry);
        socket.once('close', () => open.delete(entry));
      });
    }
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    throw e;
  }
  return {
    containerId: container.id,
    containerName: container.name,
    listening,
    connections: () => open.size,
    close: async () => {
      const closing = servers.map(closeServer);
      for (const { socket, remote } of open) {
        socket.destroy();
        remote.destroy();
      }
      await Promise.all(closing);
    },
  };
}

/** One accepted connection: one call, piped both ways; an error closes the local side. */
function connect(opts: PortForwardOptions, id: string, socket: net.Socket, port: ForwardedPort): PortForwardStream {
  socket.setNoDelay(true);
  const remote = opts.client.containers.portForward(id, port.remote);
  opts.onConnection?.(port);
  socket.pipe(remote);
  remote.pipe(socket);
  let reported = false;
  remote.on('error', (e: Error) => {
    socket.destroy();
    if (reported) return;
    reported = true;
    opts.onError?.(asGantryError(e), port);
  });
  socket.on('error', () => remote.destroy());
  // A local connection that ends cleanly lets the call finish on its own
  // (its last bytes may still be on their way to gantryd, and on to the
  // container); any other end cancels it.
  socket.once('close', (hadError) => {
    if (hadError || !remote.writableEnded) remote.destroy();
  });
  return remote;
}

function asGantryError(e: Error): GantryError {
  return isGantryError(e) ? e : fromServiceError(e);
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      reject(
        e.code === 'EADDRINUSE'
          ? failedPrecondition(`cannot listen on ${where}: the port is in use`)
          : failedPrecondition(`cannot listen on ${where}: ${e.message}`),
      );
    });
    server.listen({ host, port }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
