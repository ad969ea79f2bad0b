// The embedded DNS resolver of user networks: the codec, the name table and
// its answers, and whole resolvers on 127.0.0.1 (a free port) asked by
// Node's own DNS client (c-ares) and by hand over TCP, forwarding to a
// stand-in upstream server.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Resolver } from 'node:dns/promises';
import * as net from 'node:net';
import {
  buildQuery,
  buildResponse,
  DnsType,
  frame,
  parseAnswers,
  parseQuery,
  Rcode,
  TcpFramer,
} from '../../../runtime/network/dns/resolver/codec';
import { EmbeddedDns, hostUpstreams, upstream, type NameRecord } from '../../../runtime/network/dns/resolver/index';
import { containerNames, NameTable, splitAddresses } from '../../../runtime/network/dns/resolver/names';
import { answerQuery, serversFor, type QueryContext } from '../../../runtime/network/dns/resolver/server';
import { containerResolvConf } from '../../../runtime/network/dns/resolvConf';
import type { Attachment, NetworkInfo } from '../../../runtime/network/index';
import { startDnsResponder, type DnsResponder } from '../../helpers/dnsResponder';
import { freePort } from '../../helpers/ports';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const ID_WEB = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';
const ID_DB = 'ffeeddccbbaa00112233445566778899ffeeddccbbaa00112233445566778899';

function network(name: string, over: Partial<NetworkInfo> = {}): NetworkInfo {
  return {
    id: `${name}-id`,
    name,
    driver: 'bridge',
    bridge: `br-${name}`,
    subnet: '127.0.0.0/8',
    gateway: '127.0.0.1',
    internal: false,
    labels: {},
    options: {},
    created: '',
    builtin: false,
    readOnly: false,
    source: '',
    ...over,
  };
}

function attachment(id: string, net: string, address: string, aliases: string[] = [], gateway = '127.0.0.1'): Attachment {
  return {
    containerId: id,
    netns: `/run/netns/${id}`,
    ports: [],
    networks: [
      {
        network: net,
        networkId: `${net}-id`,
        interface: 'eth0',
        mac: '',
        addresses: [`${address}/8`],
        gateway,
        aliases,
        result: { cniVersion: '1.0.0' } as Attachment['networks'][number]['result'],
      },
    ],
  };
}

function tcpAsk(port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(frame(query)));
    const framer = new TcpFramer();
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      const [m] = framer.push(chunk);
      if (m) {
        socket.destroy();
        resolve(m);
      }
    });
  });
}

describe('network/dns/resolver: codec', () => {
  it('reads a query, writes an answer that reads back, with the name echoed as asked', () => {
    const q = parseQuery(buildQuery(0x1234, 'Web.Example', DnsType.A));
    assert.deepEqual(q, {
      id: 0x1234,
      opcode: 0,
      rd: true,
      response: false,
      questions: [{ name: 'web.example', asked: 'Web.Example', type: DnsType.A, class: 1 }],
    });
    const r = buildResponse(q, {
      rcode: Rcode.NOERROR,
      authoritative: true,
      answers: [
        { type: DnsType.A, ttl: 10, data: '10.0.0.2' },
        { type: DnsType.AAAA, ttl: 10, data: 'fd00::1:2' },
        { type: DnsType.PTR, ttl: 10, data: 'web' },
      ],
    });
    assert.equal(r.readUInt16BE(2) & 0x8000, 0x8000, 'QR');
    assert.equal(r.subarray(12, 12 + 13).toString('latin1'), '\x03Web\x07Example\x00');
    assert.deepEqual(parseAnswers(r), {
      id: 0x1234,
      rcode: 0,
      answers: [
        { type: DnsType.A, ttl: 10, data: '10.0.0.2' },
        { type: DnsType.AAAA, ttl: 10, data: 'fd00:0:0:0:0:0:1:2' },
        { type: DnsType.PTR, ttl: 10, data: 'web' },
      ],
    });
  });

  it('follows compression pointers and refuses malformed messages', () => {
    // Question 1 "a.b", question 2 "c" + pointer to "b".
    const header = Buffer.from([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    const q1 = Buffer.from([1, 0x61, 1, 0x62, 0, 0, 1, 0, 1]);
    const q2 = Buffer.from([1, 0x63, 0xc0, 14, 0, 1, 0, 1]);
    const q = parseQuery(Buffer.concat([header, q1, q2]));
    assert.deepEqual(
      q.questions.map((x) => x.name),
      ['a.b', 'c.b'],
    );
    assert.throws(() => parseQuery(Buffer.from([0, 1, 0])), /header/);
    assert.throws(() => parseQuery(Buffer.concat([header.subarray(0, 5), Buffer.from([1]), header.subarray(6), Buffer.from([5, 0x61])])));
    // A pointer to itself.
    assert.throws(
      () => parseQuery(Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 1, 0, 1])])),
      /loop/,
    );
  });

  it('frames TCP messages across chunks', () => {
    const framer = new TcpFramer();
    const both = Buffer.concat([frame(Buffer.from('abc')), frame(Buffer.from('de'))]);
    assert.deepEqual(framer.push(both.subarray(0, 4)), []);
    assert.deepEqual(
      framer.push(both.subarray(4)).map((b) => b.toString()),
      ['abc', 'de'],
    );
  });
});

describe('network/dns/resolver: names', () => {
  it('answers by name, alias and short ID, case-insensitively; AAAA without v6 is NOERROR with none; PTR; networks apart', () => {
    const t = new NameTable();
    t.set('app', { containerId: ID_WEB, names: containerNames('/Web', ['Front'], ID_WEB), ipv4: ['10.0.0.2'], ipv6: [], dns: [] });
    t.set('other', { containerId: ID_DB, names: containerNames('db', [], ID_DB), ipv4: ['10.1.0.2'], ipv6: [], dns: [] });
    const q = (name: string, type: number) => ({ name, asked: name, type, class: 1 });
    for (const name of ['web', 'front', ID_WEB.slice(0, 12)]) {
      assert.deepEqual(t.answer('app', q(name, DnsType.A))?.answers, [{ type: DnsType.A, ttl: 10, data: '10.0.0.2' }], name);
    }
    assert.deepEqual(t.answer('app', q('web', DnsType.AAAA)), { rcode: Rcode.NOERROR, answers: [] });
    assert.deepEqual(t.answer('app', q('2.0.0.10.in-addr.arpa', DnsType.PTR))?.answers, [{ type: DnsType.PTR, ttl: 10, data: 'web' }]);
    assert.equal(t.answer('app', q('db', DnsType.A)), undefined, "another network's name is not ours");
    assert.equal(t.answer('app', q('example.com', DnsType.A)), undefined);
    // Two containers with one alias: both addresses.
    t.set('app', { containerId: ID_DB, names: ['db', 'front'], ipv4: ['10.0.0.3'], ipv6: ['fd00::3'], dns: [] });
    assert.deepEqual(
      t.answer('app', q('front', DnsType.A))?.answers.map((a) => a.data),
      ['10.0.0.2', '10.0.0.3'],
    );
    assert.deepEqual(t.remove(ID_DB), ['other']);
    assert.equal(t.size('app'), 1);
    assert.deepEqual(splitAddresses(['10.0.0.2/24', 'fd00::2/64']), { ipv4: ['10.0.0.2'], ipv6: ['fd00::2'] });
  });

  it("sends other names to the asking container's --dns servers, else the host's", async () => {
    const t = new NameTable();
    t.set('app', { containerId: ID_WEB, names: ['web'], ipv4: ['10.0.0.2'], ipv6: [], dns: ['192.0.2.53', '127.0.0.1'] });
    t.set('app', { containerId: ID_DB, names: ['db'], ipv4: ['10.0.0.3'], ipv6: [], dns: ['127.0.0.1'] });
    const qc: QueryContext = { network: 'app', table: t, serves: () => true, hostUpstreams: async () => [upstream('198.51.100.1')] };
    assert.deepEqual(await serversFor(qc, '10.0.0.2'), [upstream('192.0.2.53')]);
    assert.deepEqual(await serversFor(qc, '::ffff:10.0.0.2'), [upstream('192.0.2.53')]);
    assert.deepEqual(await serversFor(qc, '10.0.0.3'), [upstream('198.51.100.1')], "the container's loopback is not ours to reach");
    assert.deepEqual(await serversFor(qc, '10.0.0.9'), [upstream('198.51.100.1')]);
  });

  it('refuses sources outside the network, answers FORMERR to garbage, SERVFAIL when no upstream answers', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind({ address: '127.0.0.1', port: 0 }, r));
    try {
      const t = new NameTable();
      t.set('app', { containerId: ID_WEB, names: ['web'], ipv4: ['10.0.0.2'], ipv6: [], dns: [] });
      const qc: QueryContext = {
        network: 'app',
        table: t,
        serves: (s) => s.startsWith('10.'),
        hostUpstreams: async () => [upstream('127.0.0.1', silent.address().port)],
        timeoutMs: 50,
      };
      const ask = async (name: string, source: string) =>
        parseAnswers((await answerQuery(buildQuery(7, name, DnsType.A), source, 'udp', qc))!);
      assert.equal((await ask('web', '10.1.0.9')).rcode, 0);
      assert.equal((await ask('web', '172.17.0.2')).rcode, Rcode.REFUSED);
      assert.equal((await ask('nowhere.example', '10.0.0.2')).rcode, Rcode.SERVFAIL);
      const garbage = await answerQuery(Buffer.from([0xab, 0xcd, 1, 0, 0, 9]), '10.0.0.2', 'udp', qc);
      assert.equal(garbage!.readUInt16BE(0), 0xabcd);
      assert.equal(garbage!.readUInt16BE(2) & 0xf, Rcode.FORMERR);
    } finally {
      silent.close();
    }
  });

  it("a container on a user network gets only the resolver as nameserver, with the host's search and options", () => {
    assert.equal(
      containerResolvConf('nameserver 192.0.2.1\nsearch corp.example\noptions edns0\n', undefined, {
        dns: ['192.0.2.9'],
        embedded: '10.0.0.1',
      }),
      "# Generated by gantryd from the host's resolv.conf\nsearch corp.example\nnameserver 10.0.0.1\noptions edns0\n",
    );
  });
});

describe('network/dns/resolver: EmbeddedDns on 127.0.0.1', function () {
  const cleanup = suiteCleanup();
  let port: number;
  let upstreamServer: DnsResponder;
  let dns: EmbeddedDns;
  const networks: Record<string, NetworkInfo> = { app: network('app'), bridge: network('bridge', { builtin: true }) };
  const web: NameRecord = { id: ID_WEB, name: 'web' };
  const client = () => {
    const r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    return r;
  };

  before(async () => {
    port = await freePort();
    upstreamServer = await startDnsResponder({ 'outside.example': '192.0.2.7' }, { cleanup });
    dns = new EmbeddedDns({
      networkInfo: async (name) => networks[name] ?? Promise.reject(new Error(`no network ${name}`)),
      hostUpstreams: async () => [upstream('127.0.0.1', upstreamServer.port)],
      port,
    });
    cleanup.defer(() => dns.close());
  });

  it('opens at the first container, answers names over UDP and TCP, forwards the rest over the same transport, closes with the last', async () => {
    assert.deepEqual([...(await dns.register(web, attachment(ID_WEB, 'app', '127.0.0.2', ['front'])))], [['app', '127.0.0.1']]);
    assert.deepEqual([...dns.listening()], [['app', '127.0.0.1']]);
    const r = client();
    assert.deepEqual(await r.resolve4('web'), ['127.0.0.2']);
    assert.deepEqual(await r.resolve4('FRONT'), ['127.0.0.2']);
    assert.deepEqual(await r.resolve4(ID_WEB.slice(0, 12)), ['127.0.0.2']);
    await assert.rejects(r.resolve6('web'), { code: 'ENODATA' }, 'a name we hold is never NXDOMAIN');
    assert.deepEqual(await r.resolve4('outside.example'), ['192.0.2.7']);
    await assert.rejects(r.resolve4('missing.example'), { code: 'ENOTFOUND' });
    assert.deepEqual(upstreamServer.queries.udp.slice(-2), ['outside.example', 'missing.example']);

    assert.deepEqual(
      parseAnswers(await tcpAsk(port, buildQuery(1, 'web', DnsType.A))).answers.map((a) => a.data),
      ['127.0.0.2'],
    );
    assert.deepEqual(
      parseAnswers(await tcpAsk(port, buildQuery(2, 'outside.example', DnsType.A))).answers.map((a) => a.data),
      ['192.0.2.7'],
    );
    assert.deepEqual(upstreamServer.queries.tcp, ['outside.example'], 'a TCP query goes upstream over TCP');

    await dns.register({ id: ID_DB, name: 'db' }, attachment(ID_DB, 'app', '127.0.0.3'));
    await dns.unregister(ID_WEB);
    await assert.rejects(r.resolve4('web'), { code: 'ENOTFOUND' }, 'a removed container stops resolving at once');
    assert.deepEqual(await r.resolve4('db'), ['127.0.0.3']);
    await dns.unregister(ID_DB, 'app');
    assert.deepEqual([...dns.listening()], []);
    await assert.rejects(client().resolve4('db'), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED' || e.code === 'ETIMEOUT');
  });

  it('gives the default bridge no resolver; a taken address is a warning and no resolver, never an error', async () => {
    assert.deepEqual([...(await dns.register(web, attachment(ID_WEB, 'bridge', '127.0.0.2')))], []);
    const internal = new EmbeddedDns({ networkInfo: async () => network('int', { internal: true }), port });
    assert.deepEqual([...(await internal.register(web, attachment(ID_WEB, 'int', '127.0.0.2')))], []);

    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind({ address: '127.0.0.1', port, exclusive: true }, r));
    const warnings: string[] = [];
    const log = { warn: (m: string) => warnings.push(m), info: () => undefined, debug: () => undefined, error: () => undefined };
    const blocked = new EmbeddedDns({ networkInfo: async () => network('app'), port, log });
    try {
      assert.deepEqual([...(await blocked.register(web, attachment(ID_WEB, 'app', '127.0.0.2')))], []);
      assert.match(warnings.join('\n'), /cannot listen/);
    } finally {
      taken.close();
      await blocked.close();
      await dns.unregister(ID_WEB);
    }
  });
});

describe('network/dns/resolver: host upstream servers', () => {
  const cleanup = suiteCleanup();
  it("forwards to the host's own servers, a loopback stub included (gantryd is in the host's namespace)", async () => {
    const dir = await makeTempDir('gt-dns', cleanup);
    const hostFile = path.join(dir, 'resolv.conf');
    const upstreamFile = path.join(dir, 'upstream.conf');
    fs.writeFileSync(hostFile, 'nameserver 127.0.0.53\noptions edns0\n');
    fs.writeFileSync(upstreamFile, 'nameserver 192.0.2.53\n');
    assert.deepEqual(await hostUpstreams(hostFile, upstreamFile), [upstream('127.0.0.53')]);
    fs.writeFileSync(hostFile, '# no servers\n');
    assert.deepEqual(await hostUpstreams(hostFile, path.join(dir, 'missing')), [upstream('8.8.8.8'), upstream('8.8.4.4')]);
  });
});
