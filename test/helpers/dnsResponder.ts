// A small authoritative DNS server for tests: the "upstream" the embedded
// resolver forwards to. It answers A queries for the names it is given
// (NXDOMAIN for the rest) over UDP and TCP on one address and port, and
// counts the queries per transport.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { buildResponse, DnsType, frame, parseQuery, Rcode, TcpFramer } from '../../runtime/network/dns/resolver/codec';
import type { Cleanup } from './tmp';

export interface DnsResponder {
  readonly address: string;
  readonly port: number;
  readonly queries: { udp: string[]; tcp: string[] };
  close(): Promise<void>;
}

/** Listens on `address:port` (port 0: one free for both); `records`: lower-case name → IPv4. */
export async function startDnsResponder(
  records: Readonly<Record<string, string>>,
  opts: { address?: string; port?: number; cleanup?: Cleanup } = {},
): Promise<DnsResponder> {
  const address = opts.address ?? '127.0.0.1';
  const queries = { udp: [] as string[], tcp: [] as string[] };
  const answer = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer => {
    const q = parseQuery(msg);
    const name = q.questions[0]?.name ?? '';
    queries[transport].push(name);
    const ip = records[name];
    if (ip === undefined) return buildResponse(q, { rcode: Rcode.NXDOMAIN, authoritative: true });
    const answers = q.questions[0].type === DnsType.A ? [{ type: DnsType.A, ttl: 30, data: ip }] : [];
    return buildResponse(q, { rcode: Rcode.NOERROR, authoritative: true, answers });
  };
  for (let attempt = 0; ; attempt++) {
    const tcp = net.createServer((socket) => {
      const framer = new TcpFramer();
      socket.on('error', () => socket.destroy());
      socket.on('data', (chunk) => {
        for (const m of framer.push(chunk)) socket.write(frame(answer(m, 'tcp')));
      });
    });
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: address, port: opts.port ?? 0, exclusive: true }, resolve);
    });
    const port = (tcp.address() as net.AddressInfo).port;
    const udp = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind({ address, port, exclusive: true }, () => resolve(true));
    });
    if (!bound) {
      await new Promise((r) => tcp.close(r));
      if (opts.port || attempt > 20) throw new Error(`dns responder: UDP ${address}:${port} is taken`);
      continue;
    }
    udp.on('message', (msg, rinfo) => udp.send(answer(msg, 'udp'), rinfo.port, rinfo.address));
    const responder: DnsResponder = {
      address,
      port,
      queries,
      close: async () => {
        await new Promise<void>((r) => udp.close(() => r()));
        await new Promise((r) => tcp.close(r));
      },
    };
    opts.cleanup?.defer(() => responder.close().catch(() => undefined));
    return responder;
  }
}
