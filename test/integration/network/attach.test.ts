// The networking core with real CNI plugins, iptables and namespaces:
// attach, publish, egress, peers, isolation, and refusals that leave nothing.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { parsePublish } from '../../../runtime/network/index';
import { forwardRules, isolationRules } from '../../../runtime/network/bridges';
import { suiteCleanup, makeTempDir } from '../../helpers/tmp';
import { freePort } from '../../helpers/ports';
import { runCommand, startProcess } from '../../helpers/proc';
import { waitFor } from '../../helpers/waitFor';
import { containerId, ctx, hostAddress, httpGet, nsRun, snapshot, startHttpd, startNetworking, startOutsideHost } from './harness';

describe('network: attach with CNI', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();

  it('publishes a port that answers on 127.0.0.1 and the host address; the namespace reaches the host and its peer', async () => {
    const t = await startNetworking(cleanup);
    const web = containerId();
    const hostPort = await freePort();
    const a = await t.manager.attach(ctx, web, [{ network: 'bridge' }], { ports: parsePublish(`${hostPort}:80`) });
    cleanup.defer(() => t.manager.detach(ctx, web));
    assert.equal(a.netns, path.join(t.netnsDir, web));
    assert.equal(a.networks.length, 1);
    const [n] = a.networks;
    const bridgeNet = await t.manager.inspectNetwork('bridge');
    assert.equal(n.network, 'bridge');
    assert.equal(n.interface, 'eth0');
    assert.match(n.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(n.gateway, bridgeNet.gateway);
    assert.equal(n.addresses.length, 1);
    assert.deepEqual(a.ports, [{ hostIp: '', hostPort, containerPort: 80, protocol: 'tcp' }]);
    const ip = n.addresses[0].split('/')[0];

    await startHttpd(a.netns, 'hello from the namespace\n', cleanup);
    assert.equal(await httpGet(`http://127.0.0.1:${hostPort}/`), 'hello from the namespace\n');
    assert.equal(await httpGet(`http://${await hostAddress()}:${hostPort}/`), 'hello from the namespace\n');

    // Egress: a server on a host address, reached from inside.
    const server = http.createServer((_req, res) => res.end('hello from the host\n'));
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    cleanup.defer(() => new Promise((r) => server.close(r)));
    const port = (server.address() as net.AddressInfo).port;
    assert.equal(
      await nsRun(a.netns, ['busybox', 'wget', '-q', '-O', '-', `http://${await hostAddress()}:${port}/`]),
      'hello from the host\n',
    );

    // A second namespace on the same network reaches the first.
    const peer = containerId();
    const b = await t.manager.attach(ctx, peer, [{ network: 'bridge' }]);
    cleanup.defer(() => t.manager.detach(ctx, peer));
    assert.notEqual(b.networks[0].addresses[0], n.addresses[0]);
    assert.equal(await nsRun(b.netns, ['busybox', 'wget', '-q', '-O', '-', `http://${ip}/`]), 'hello from the namespace\n');
    // Hairpin: the peer reaches the published port through the host address.
    assert.equal(
      await nsRun(b.netns, ['busybox', 'wget', '-q', '-O', '-', `http://${await hostAddress()}:${hostPort}/`]),
      'hello from the namespace\n',
    );

    // A namespace on another network cannot reach it (firewall same-bridge).
    const other = await t.manager.createNetwork(ctx, { name: 'other' });
    const stranger = containerId();
    const c = await t.manager.attach(ctx, stranger, [{ network: 'other' }]);
    cleanup.defer(() => t.manager.detach(ctx, stranger));
    assert.equal(c.networks[0].gateway, other.gateway);
    await assert.rejects(nsRun(c.netns, ['busybox', 'wget', '-q', '-T', '2', '-O', '-', `http://${ip}/`]));
    // …while it still reaches the host.
    assert.equal(
      await nsRun(c.netns, ['busybox', 'wget', '-q', '-O', '-', `http://${await hostAddress()}:${port}/`]),
      'hello from the host\n',
    );

    // Recorded, and listed by network.
    assert.deepEqual((await t.manager.networkUsers('bridge')).sort(), [peer, web].sort());
    await assert.rejects(
      t.manager.removeNetwork(ctx, 'other'),
      (e: unknown) =>
        isGantryError(e) && e.kind === 'Conflict' && e.message === `network other is in use by container ${stranger.slice(0, 12)}`,
    );
    // A configured container by its name, an attached one known by name only once.
    await assert.rejects(
      t.manager.removeNetwork(ctx, 'other', [{ id: 'f'.repeat(64), name: 'web-1' }]),
      (e: Error) => e.message === `network other is in use by containers web-1, ${stranger.slice(0, 12)}`,
    );
    await assert.rejects(
      t.manager.removeNetwork(ctx, 'other', [{ id: stranger, name: 'web-2' }]),
      (e: Error) => e.message === 'network other is in use by container web-2',
    );
    const report = await t.manager.check(ctx, web);
    assert.ok(report.ok, JSON.stringify(report));
  });

  it('isolates its networks itself, before any container: rules per bridge, the jump above CNI-FORWARD, restored at a restart', async () => {
    const t = await startNetworking(cleanup);
    const other = await t.manager.createNetwork(ctx, { name: 'isolated' });
    const rulesOf = async () => (await runCommand('iptables', ['-w', '-t', 'filter', '-S'])).stdout.split('\n');
    const check = (rule: string[]) => runCommand('iptables', ['-w', '-t', 'filter', '-C', ...rule]);
    // No container was ever attached: the firewall plugin has not run for these bridges.
    for (const bridge of [t.bridge, other.bridge]) for (const rule of isolationRules(bridge)) await check(rule);
    const forward = (await rulesOf()).filter((l) => l.startsWith('-A FORWARD '));
    const isolationAt = forward.findIndex((l) => l.endsWith('-j CNI-ISOLATION-STAGE-1'));
    assert.ok(isolationAt >= 0 && isolationAt < forward.findIndex((l) => l.endsWith('-j CNI-FORWARD')), forward.join('\n'));
    // Each chain still ends in its RETURN (the bridges' rules went above it).
    for (const chain of ['CNI-ISOLATION-STAGE-1', 'CNI-ISOLATION-STAGE-2'])
      assert.match((await rulesOf()).filter((l) => l.startsWith(`-A ${chain} `)).pop() ?? '', /-j RETURN$/);

    // The firewall plugin is no longer run on each ADD (nor is its forwarding needed: see the next test).
    const id = containerId();
    await t.manager.attach(ctx, id, [{ network: 'isolated' }]);
    cleanup.defer(() => t.manager.detach(ctx, id));
    const record = JSON.parse(await fs.promises.readFile(path.join(t.settings.root, 'networks', 'attachments', `${id}.json`), 'utf8')) as {
      networks: { conflist: { plugins: Record<string, unknown>[] } }[];
    };
    assert.deepEqual(
      record.networks[0].conflist.plugins.map((p) => p.type),
      ['bridge'],
    );

    // A rule removed behind gantryd's back is put back when it starts again.
    const [stage2] = isolationRules(other.bridge).slice(1);
    await runCommand('iptables', ['-w', '-t', 'filter', '-D', ...stage2]);
    await assert.rejects(check(stage2));
    await t.restart();
    await check(stage2);
    // Once only: a second start adds no copy.
    await t.restart();
    const rules = await rulesOf();
    assert.equal(rules.filter((l) => l.startsWith(`-A CNI-ISOLATION-STAGE-1 -i ${other.bridge} `)).length, 1);
    assert.equal(rules.filter((l) => l.startsWith(`-A CNI-ISOLATION-STAGE-2 -o ${other.bridge} `)).length, 1);
  });

  it('masquerades what leaves by another interface with one rule per network; none with ip-masq=false; gone with the network', async () => {
    const t = await startNetworking(cleanup);
    const outside = await startOutsideHost(cleanup);
    const id = containerId();
    const a = await t.manager.attach(ctx, id, [{ network: 'bridge' }]);
    cleanup.defer(() => t.manager.detach(ctx, id));
    // The outside host saw the host's address, not the container's.
    assert.equal(await nsRun(a.netns, ['busybox', 'wget', '-q', '-O', '-', outside.url]), outside.hostIp);
    const nat = async () => (await runCommand('iptables-save', ['-t', 'nat'])).stdout;
    const subnet = (await t.manager.inspectNetwork('bridge')).subnet;
    assert.equal((await nat()).split('\n').filter((l) => l.includes(`-s ${subnet} `) && l.includes('MASQUERADE')).length, 1);
    // Nothing per container: no rule names its address.
    const ip = a.networks[0].addresses[0].split('/')[0];
    assert.equal((await nat()).includes(`${ip}/32`) || (await nat()).includes(`-s ${ip} `), false);

    const plain = await t.manager.createNetwork(ctx, { name: 'plain', options: { 'ip-masq': 'false' } });
    const unmasked = containerId();
    const b = await t.manager.attach(ctx, unmasked, [{ network: 'plain' }]);
    await assert.rejects(nsRun(b.netns, ['busybox', 'wget', '-q', '-T', '2', '-O', '-', outside.url]));
    await t.manager.detach(ctx, unmasked);
    const masked = await t.manager.createNetwork(ctx, { name: 'masked' });
    assert.ok((await nat()).includes(`gantry masquerade ${masked.bridge}`));
    await t.manager.removeNetwork(ctx, 'masked');
    await t.manager.removeNetwork(ctx, 'plain');
    assert.equal((await nat()).includes(masked.bridge), false);
    assert.equal((await nat()).includes(plain.bridge), false);
  });

  it("accepts its networks' traffic in FORWARD itself, two rules per bridge and none per container: it passes a chain that drops the rest; gone with the network", async () => {
    const t = await startNetworking(cleanup);
    const outside = await startOutsideHost(cleanup);
    const net = await t.manager.createNetwork(ctx, { name: 'forwarded' });
    const filter = async () => (await runCommand('iptables', ['-w', '-t', 'filter', '-S'])).stdout.split('\n');
    for (const rule of forwardRules(net.bridge)) await runCommand('iptables', ['-w', '-t', 'filter', '-C', ...rule]);
    // As a FORWARD policy of DROP (Docker's) would, for this bridge only: whatever CNI-FORWARD does not accept is dropped.
    const drops = [
      ['CNI-FORWARD', '-i', net.bridge, '-j', 'DROP'],
      ['CNI-FORWARD', '-o', net.bridge, '-j', 'DROP'],
    ];
    for (const rule of drops) {
      await runCommand('iptables', ['-w', '-t', 'filter', '-A', ...rule]);
      cleanup.defer(() => runCommand('iptables', ['-w', '-t', 'filter', '-D', ...rule]).catch(() => undefined));
    }
    const id = containerId();
    const a = await t.manager.attach(ctx, id, [{ network: 'forwarded' }]);
    cleanup.defer(() => t.manager.detach(ctx, id));
    assert.equal(await nsRun(a.netns, ['busybox', 'wget', '-q', '-O', '-', outside.url]), outside.hostIp);
    const ip = a.networks[0].addresses[0].split('/')[0];
    assert.deepEqual(
      (await filter()).filter((l) => l.includes(`${ip}/32`)),
      [],
    );
    await t.manager.detach(ctx, id);
    for (const rule of drops) await runCommand('iptables', ['-w', '-t', 'filter', '-D', ...rule]);
    await t.manager.removeNetwork(ctx, 'forwarded');
    assert.deepEqual(
      (await filter()).filter((l) => l.includes(`gantry forward ${net.bridge}`)),
      [],
    );
  });

  it('publishes a UDP port, answering on 127.0.0.1 and the host address', async () => {
    const t = await startNetworking(cleanup);
    const id = containerId();
    const a = await t.manager.attach(ctx, id, [{ network: 'bridge' }], { ports: parsePublish('5353/udp') });
    cleanup.defer(() => t.manager.detach(ctx, id));
    const [mapping] = a.ports;
    assert.equal(mapping.protocol, 'udp');
    assert.ok(mapping.hostPort > 0);
    // A UDP echo server inside the namespace, on its container port.
    const script =
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(5353,()=>console.log('ready'))";
    const server = startProcess('nsenter', [`--net=${a.netns}`, process.execPath, '-e', script], { name: 'udp echo' });
    cleanup.defer(() => server.stop());
    await server.waitFor((p) => p.stdout.includes('ready'), { what: 'the UDP echo server binds' });
    for (const host of ['127.0.0.1', await hostAddress()]) {
      const reply = await udpAsk(host, mapping.hostPort, 'ping', `an echo through ${host}:${mapping.hostPort}/udp`);
      assert.equal(reply, 'echo:ping');
    }
  });

  it('refuses a host port a process holds, before anything is created', async () => {
    const t = await startNetworking(cleanup);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
    cleanup.defer(() => new Promise((r) => holder.close(r)));
    const port = (holder.address() as net.AddressInfo).port;
    const before = await snapshot(t);
    const id = containerId();
    await assert.rejects(
      t.manager.attach(ctx, id, [{ network: 'bridge' }], { ports: parsePublish(`${port}:80`) }),
      (e: unknown) =>
        isGantryError(e) &&
        e.kind === 'Conflict' &&
        e.message === `cannot publish 0.0.0.0:${port}->80/tcp: host port ${port}/tcp is in use by another process on the host`,
    );
    assert.deepEqual(await snapshot(t), before);
    assert.equal(await t.manager.attachment(id), undefined);

    // Held by another container: refused too, naming it.
    const first = containerId();
    const free = await freePort();
    await t.manager.attach(ctx, first, [{ network: 'bridge' }], { ports: parsePublish(`127.0.0.1:${free}:80`) });
    cleanup.defer(() => t.manager.detach(ctx, first));
    const mid = await snapshot(t);
    await assert.rejects(
      t.manager.attach(ctx, id, [{ network: 'bridge' }], { ports: parsePublish(`${free}:8080`) }),
      new RegExp(`already published by container ${first}`),
    );
    assert.deepEqual(await snapshot(t), mid);
  });

  it('refuses bad input before anything is created: unknown network, --ip outside the subnet, bad MAC, ports on an internal network', async () => {
    const t = await startNetworking(cleanup);
    await t.manager.createNetwork(ctx, { name: 'inside', internal: true });
    const before = await snapshot(t);
    const id = containerId();
    const refuse = (p: Promise<unknown>, kind: string, re: RegExp) =>
      assert.rejects(p, (e: unknown) => isGantryError(e) && e.kind === kind && re.test(e.message));
    await refuse(t.manager.attach(ctx, id, [{ network: 'nosuch' }]), 'NotFound', /network nosuch not found/);
    await refuse(
      t.manager.attach(ctx, id, [{ network: 'bridge', ip: '192.0.2.200' }]),
      'InvalidArgument',
      /--ip 192\.0\.2\.200 is outside network bridge's subnet/,
    );
    await refuse(t.manager.attach(ctx, id, [{ network: 'bridge', mac: 'zz:zz' }]), 'InvalidArgument', /invalid MAC address/);
    await refuse(
      t.manager.attach(ctx, id, [{ network: 'inside' }], { ports: parsePublish('8080:80') }),
      'InvalidArgument',
      /cannot publish ports on inside/,
    );
    assert.deepEqual(await snapshot(t), before);
    assert.deepEqual(await t.manager.listAttachments(), []);

    // --ip and --mac-address reach the plugins.
    const info = await t.manager.inspectNetwork('bridge');
    const want = info.subnet.replace(/\.0\/\d+$/, '.77');
    const a = await t.manager.attach(ctx, id, [{ network: 'bridge', ip: want, mac: '02:42:0a:00:00:77' }]);
    cleanup.defer(() => t.manager.detach(ctx, id));
    assert.equal(a.networks[0].addresses[0].split('/')[0], want);
    assert.equal(a.networks[0].mac, '02:42:0a:00:00:77');

    // A plugin that fails half-way (the address is taken): its ADD is undone.
    const mid = await snapshot(t);
    const second = containerId();
    await assert.rejects(
      t.manager.attach(ctx, second, [{ network: 'bridge', ip: want }], { ports: parsePublish('127.0.0.1::80') }),
      (e: unknown) => isGantryError(e) && /^network "bridge": CNI plugin "bridge" ADD failed: .*10\.\d+\.\d+\.77/.test(e.message),
    );
    assert.deepEqual(await snapshot(t), mid);
    assert.equal(await t.manager.attachment(second), undefined);
  });

  it('names a missing plugin binary and its package, and leaves nothing half-created', async () => {
    const bin = await makeTempDir('gt-cnibin', cleanup);
    for (const p of ['bridge', 'host-local', 'firewall', 'tuning', 'loopback'])
      await fs.promises.symlink(path.join('/usr/lib/cni', p), path.join(bin, p));
    const t = await startNetworking(cleanup, { cniBinDirs: [bin] });
    const availability = await t.manager.availability();
    assert.equal(availability.available, false);
    assert.deepEqual(availability.packages, ['containernetworking-plugins']);
    assert.match(availability.hint, /CNI plugin portmap .*install with apt-get install containernetworking-plugins/);
    const before = await snapshot(t);
    const id = containerId();
    await assert.rejects(
      t.manager.attach(ctx, id, [{ network: 'bridge' }]),
      (e: unknown) =>
        isGantryError(e) &&
        e.kind === 'FailedPrecondition' &&
        e.message.startsWith(
          `network "bridge": CNI plugin "portmap" not found in ${bin}; install the Debian package containernetworking-plugins`,
        ),
    );
    assert.deepEqual(await snapshot(t), before);
    assert.equal(await t.manager.attachment(id), undefined);
    assert.ok((await createdAvailability()).available, 'the real plugin dir has everything');
  });
});

/** Sends `text` again on every re-check until a reply comes (a datagram may be lost), and resolves with the reply. */
async function udpAsk(host: string, port: number, text: string, what: string): Promise<string> {
  const sock = dgram.createSocket('udp4');
  let reply: string | undefined;
  sock.on('message', (m) => (reply = m.toString('utf8')));
  sock.on('error', () => undefined);
  try {
    return await waitFor(
      () => {
        if (reply === undefined) sock.send(text, port, host);
        return reply;
      },
      { what, intervalMs: 250 },
    );
  } finally {
    sock.close();
  }
}

async function createdAvailability() {
  const { probeAvailability, DEFAULT_CNI_BIN_DIRS } = await import('../../../runtime/network/index');
  return probeAvailability(DEFAULT_CNI_BIN_DIRS);
}
