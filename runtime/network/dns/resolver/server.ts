/**
 * One network's resolver: a UDP socket and a TCP listener on the network's
 * gateway address (port 53), and the answer to each query — from the
 * network's names when the name is a container's there, else forwarded to
 * the asking container's `--dns` servers or the host's upstream servers.
 * The address a query arrives on is the network's own, so a query is only
 * ever answered from that network's names; and only sources inside the
 * network's subnet are served (a container on another network can reach
 * this address through the host, but it gets REFUSED, not the names).
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Logger } from '../../../util/log';
import { buildResponse, DnsClass, DnsFormatError, errorForRaw, frame, parseQuery, Rcode, TcpFramer } from './codec';
import { forwardTcp, forwardUdp, upstream, type Upstream } from './forward';
import type { NameTable } from './names';
import { isLoopbackNameserver } from '../resolvConf';

export interface QueryContext {
  readonly network: string;
  readonly table: NameTable;
  /** Is `source` (an address) one this network serves (inside its subnet)? */
  readonly serves: (source: string) => boolean;
  /** The host's upstream servers (for containers without `--dns`). */
  readonly hostUpstreams: () => Promise<Upstream[]>;
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

export type Transport = 'udp' | 'tcp';

/** The response to one query message from `source`, or undefined to stay silent (it was not a query). */
export async function answerQuery(msg: Buffer, source: string, transport: Transport, qc: QueryContext): Promise<Buffer | undefined> {
  let query;
  try {
    query = parseQuery(msg);
  } catch (e) {
    if (e instanceof DnsFormatError) return errorForRaw(msg, Rcode.FORMERR);
    throw e;
  }
  if (query.response) return undefined;
  if (!qc.serves(source)) return buildResponse(query, { rcode: Rcode.REFUSED });
  const [q] = query.questions;
  if (query.opcode === 0 && query.questions.length === 1 && (q.class === DnsClass.IN || q.class === 255)) {
    const local = qc.table.answer(qc.network, q);
    if (local) return buildResponse(query, { ...local, authoritative: true });
  }
  const servers = await serversFor(qc, source);
  const answer = transport === 'udp' ? await forwardUdp(msg, servers, qc.timeoutMs) : await forwardTcp(msg, servers, qc.timeoutMs);
  if (answer) return answer;
  qc.log?.debug('dns: no upstream server answered', { network: qc.network, name: q?.name, servers: servers.map((s) => s.host) });
  return buildResponse(query, { rcode: Rcode.SERVFAIL });
}

/**
 * Where a query from `source` goes when it is not ours: the asking
 * container's `--dns` servers (the source address identifies it; loopback
 * ones are the container's own loopback, which we cannot reach), else the
 * host's upstream servers.
 */
export async function serversFor(qc: QueryContext, source: string): Promise<Upstream[]> {
  const own = qc.table.byAddress(qc.network, source)?.dns.filter((s) => net.isIP(s) && !isLoopbackNameserver(s)) ?? [];
  return own.length > 0 ? own.map((s) => upstream(s)) : qc.hostUpstreams();
}

/**
 * Bounds per network, so a container flooding its resolver cannot take all
 * of gantryd's file descriptors: queries being answered at once (each
 * forwarded one holds a socket; beyond this UDP queries are dropped, as a
 * busy server does, and the client asks again) and TCP connections.
 */
export const MAX_QUERIES_IN_FLIGHT = 256;
export const MAX_TCP_CONNECTIONS = 64;

/** The sockets of one network's resolver. */
export class NetworkResolver {
  private constructor(
    readonly address: string,
    readonly port: number,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    private readonly conns: Set<net.Socket>,
  ) {}

  /** Binds `address:port` over UDP and TCP; rejects (with both closed) when either is taken. */
  static async open(address: string, port: number, qc: QueryContext): Promise<NetworkResolver> {
    const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    const tcp = net.createServer();
    const conns = new Set<net.Socket>();
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address, port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      tcp.close();
      throw e;
    }
    udp.on('error', (e) => qc.log?.warn('dns: UDP socket error', { network: qc.network, error: String(e) }));
    let inflight = 0;
    const answer = (msg: Buffer, source: string, transport: Transport): Promise<Buffer | undefined> => {
      inflight++;
      return answerQuery(msg, source, transport, qc).finally(() => inflight--);
    };
    udp.on('message', (msg, rinfo) => {
      if (inflight >= MAX_QUERIES_IN_FLIGHT) return;
      answer(msg, rinfo.address, 'udp').then(
        (response) => {
          if (response) udp.send(response, rinfo.port, rinfo.address, () => undefined);
        },
        (e: unknown) => qc.log?.warn('dns: answering a query failed', { network: qc.network, error: String(e) }),
      );
    });
    tcp.maxConnections = MAX_TCP_CONNECTIONS;
    tcp.on('connection', (socket) => {
      conns.add(socket);
      socket.on('close', () => conns.delete(socket));
      socket.on('error', () => socket.destroy());
      // An idle connection is closed, as servers do (RFC 7766 suggests seconds).
      socket.setTimeout(10_000, () => socket.destroy());
      const framer = new TcpFramer();
      socket.on('data', (chunk) => {
        for (const msg of framer.push(chunk)) {
          if (inflight >= MAX_QUERIES_IN_FLIGHT) {
            socket.destroy();
            return;
          }
          answer(msg, socket.remoteAddress ?? '', 'tcp').then(
            (response) => {
              if (response && !socket.destroyed) socket.write(frame(response));
            },
            () => socket.destroy(),
          );
        }
      });
    });
    return new NetworkResolver(address, port, udp, tcp, conns);
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }
}
