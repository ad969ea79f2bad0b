// Containers on the default bridge through gantryd's API, with real CNI
// plugins, iptables and runc: published ports (host loopback, host address,
// from another container), egress, refusals that leave nothing behind, and
// IP allocations released by run/rm.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { isNotFound } from '../../../runtime/errdefs/errdefs';
import { pushBusybox } from '../../helpers/fixtures';
import { freePort } from '../../helpers/ports';
import { suiteCleanup } from '../../helpers/tmp';
import { allocatedIps, hostAddress, httpGet } from '../network/harness';
import { containerWorld, eventually, runAttached, type ContainerWorld } from './harness';
import { daemonDirs, daemonSnapshot, networksApi, startWeb, warmBridge, tryGet } from './networkHelpers';

describe('container networking: the default bridge and published ports', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  it('a container without --network is on bridge: eth0 with an address of the subnet, its hostname on that address', async () => {
    const bridge = await networksApi(world.daemon, cleanup).inspect('bridge');
    const r = await runAttached(world.client, {
      image: world.image,
      cmd: ['sh', '-c', 'ip -4 -o addr show eth0; cat /etc/hosts; cat /etc/resolv.conf'],
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const prefix = bridge.subnet.split('.').slice(0, 3).join('.');
    const ip = new RegExp(`inet (${prefix.replace(/\./g, '\\.')}\\.\\d+)/24`).exec(r.stdout)?.[1];
    assert.ok(ip, `eth0 has an address in ${bridge.subnet}:\n${r.stdout}`);
    assert.match(r.stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\t${r.container.id.slice(0, 12)}$`, 'm'));
    assert.match(r.stdout, /^nameserver /m, "the host's name servers");
    assert.equal(r.container.network, 'bridge');
    await world.client.containers.remove(r.container.id, true);
  });

  it('publishes busybox httpd: the page answers on 127.0.0.1, the host address and from another container; gone after stop', async () => {
    const hostPort = await freePort();
    const web = await startWeb(world.client, world.image, 'hello from web', { publish: [`${hostPort}:80`] }, hostPort);
    cleanup.defer(() => world.client.containers.remove(web.id, true).catch(() => undefined));
    const host = await hostAddress();
    assert.equal(await httpGet(`http://${host}:${hostPort}/`), 'hello from web\n');

    const inspect = await world.client.containers.inspect(web.id);
    const [ep] = inspect.container!.networks;
    assert.equal(ep.network, 'bridge');
    assert.equal(ep.interface, 'eth0');
    assert.equal(ep.ipPrefixLen, 24);
    assert.match(ep.macAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(ep.gateway, (await networksApi(world.daemon, cleanup).inspect('bridge')).gateway);
    assert.deepEqual(inspect.container!.ports, [{ hostIp: '', hostPort, containerPort: 80, protocol: 'tcp' }]);
    assert.ok(inspect.sandboxKey.endsWith(`/netns/${web.id}`));
    const listed = (await world.client.containers.list(false)).find((c) => c.id === web.id);
    assert.deepEqual(listed?.ports, inspect.container!.ports, 'ps shows the published ports');

    for (const url of [`http://${host}:${hostPort}/`, `http://${ep.ipAddress}/`]) {
      const peer = await runAttached(world.client, { image: world.image, cmd: ['wget', '-q', '-O', '-', url], autoRemove: true });
      assert.equal(peer.exitCode, 0, `${url}: ${peer.stderr}`);
      assert.equal(peer.stdout, 'hello from web\n', url);
    }

    await world.client.containers.stop(web.id, { timeoutSeconds: 1 });
    assert.equal(await tryGet(`http://127.0.0.1:${hostPort}/`), undefined, 'the port is gone with the container');
    assert.deepEqual((await world.client.containers.inspect(web.id)).container!.ports, []);
  });

  it('refuses a host port that is taken (by a process, by another container) before the container starts; nothing is left', async () => {
    await warmBridge(world.client, world.image);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
    cleanup.defer(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const taken = (holder.address() as net.AddressInfo).port;
    const before = await daemonSnapshot(world.daemon, world.client);
    const c = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '30'], publish: [`${taken}:80`] });
    await assert.rejects(world.client.containers.start(c.id), (e: Error) => {
      assert.match(e.message, new RegExp(`${taken}`));
      return true;
    });
    assert.deepEqual(await daemonSnapshot(world.daemon, world.client), before, 'no rule, link, namespace or IP left by the refused start');
    await world.client.containers.remove(c.id, true);

    const hostPort = await freePort();
    const web = await startWeb(world.client, world.image, 'first', { publish: [`${hostPort}:80`] }, hostPort);
    const second = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sleep', '30'],
      publish: [`127.0.0.1:${hostPort}:81`],
    });
    await assert.rejects(world.client.containers.start(second.id), /already|in use|taken|allocated/i);
    assert.equal(await httpGet(`http://127.0.0.1:${hostPort}/`), 'first\n', 'the first keeps its port');
    const during = await daemonSnapshot(world.daemon, world.client);
    assert.ok(
      during.rules.some((r) => r.includes(`--dport ${hostPort}`)) && during.links.length >= 2 && during.netnsFiles.length === 1,
      "the snapshot sees a running container's rules, veth and namespace",
    );
    await world.client.containers.remove(second.id, true);
    await world.client.containers.remove(web.id, true);
    assert.deepEqual(await daemonSnapshot(world.daemon, world.client), before);
  });

  it('a restart by the restart policy keeps the host port it was given', async () => {
    const script = 'mkdir -p /www && echo up > /www/index.html && httpd -p 80 -h /www && sleep 1 && exit 3';
    const c = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sh', '-c', script],
      publish: ['80'],
      restartPolicy: { name: 'on-failure', maximumRetryCount: 2 },
    });
    cleanup.defer(() => world.client.containers.remove(c.id, true).catch(() => undefined));
    const first = (await world.client.containers.start(c.id)).ports;
    const ports = first.length ? first : (await world.client.containers.inspect(c.id)).container!.ports;
    assert.equal(ports.length, 1);
    assert.ok(ports[0].hostPort > 0);
    const again = await eventually('a restart by the policy, attached again', async () => {
      const s = (await world.client.containers.inspect(c.id)).container!;
      return s.restartCount >= 1 && s.ports.length === 1 ? s.ports : undefined;
    });
    assert.deepEqual(again, ports);
    await world.client.containers.remove(c.id, true);
  });

  it("-P publishes the image's EXPOSEd ports and --expose ones on free host ports that answer", async () => {
    await pushBusybox(world.registry, 'gantry-test/exposing:latest', { format: 'oci', image: { exposedPorts: ['80/tcp'] } });
    const image = `${world.registry.host}/gantry-test/exposing:latest`;
    for await (const _ of world.client.images.pull({ reference: image })) {
      // progress is not under test here
    }
    const web = await startWeb(world.client, image, 'exposed', { publish: [], publishAll: true, expose: ['8081/udp'] });
    cleanup.defer(() => world.client.containers.remove(web.id, true).catch(() => undefined));
    const ports = (await world.client.containers.inspect(web.id)).container!.ports;
    assert.deepEqual(
      ports.map((p) => `${p.containerPort}/${p.protocol}`),
      ['80/tcp', '8081/udp'],
    );
    assert.ok(ports.every((p) => p.hostPort > 0));
    const tcp = ports.find((p) => p.protocol === 'tcp')!;
    const page = await eventually(`httpd on 127.0.0.1:${tcp.hostPort}`, () => tryGet(`http://127.0.0.1:${tcp.hostPort}/`));
    assert.equal(page, 'exposed\n');
    await world.client.containers.remove(web.id, true);
  });

  it('reaches an HTTP server on a host address outside the bridge (egress with NAT)', async () => {
    const host = await hostAddress();
    const server = http.createServer((_req, res) => res.end('from the host\n'));
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    cleanup.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const r = await runAttached(world.client, {
      image: world.image,
      cmd: ['wget', '-q', '-O', '-', `http://${host}:${port}/`],
      autoRemove: true,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'from the host\n');
  });

  it('20 run/rm cycles leave no IP allocated and nothing on the host', async () => {
    const dirs = daemonDirs(world.daemon);
    await warmBridge(world.client, world.image);
    const before = await daemonSnapshot(world.daemon, world.client);
    for (let i = 0; i < 20; i++) {
      const r = await runAttached(world.client, { image: world.image, cmd: ['true'], publish: [`${10000 + i}`] });
      assert.equal(r.exitCode, 0, r.stderr);
      await world.client.containers.remove(r.container.id, true);
    }
    assert.deepEqual(await allocatedIps(dirs, 'bridge'), []);
    assert.deepEqual(await daemonSnapshot(world.daemon, world.client), before);
  });

  it('--rm: once Wait("removed") returns, the address is free and the veth, namespace, record and rules are gone', async () => {
    // The teardown runs the DELs beside runc delete and the rootfs unmount (launcher.ts): all of it is done before "removed".
    const dirs = daemonDirs(world.daemon);
    await warmBridge(world.client, world.image);
    const before = await daemonSnapshot(world.daemon, world.client);
    for (let i = 0; i < 3; i++) {
      const r = await runAttached(world.client, { image: world.image, cmd: ['sh', '-c', 'ip -4 -o addr show eth0'], autoRemove: true });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /inet \d+\.\d+\.\d+\.\d+\/24/, 'it had an address');
      await world.client.containers.wait(r.container.id, 'removed').catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      assert.deepEqual(await allocatedIps(dirs, 'bridge'), [], 'no address is held after the removal');
      assert.deepEqual(await daemonSnapshot(world.daemon, world.client), before);
    }
  });

  it('runs only the plugins an attachment needs: no portmap without -p, no tuning without --mac-address, no firewall', async () => {
    const records = path.join(world.daemon.root, 'networks', 'attachments');
    const pluginsOf = async (id: string): Promise<string[]> => {
      const record = JSON.parse(await fs.promises.readFile(path.join(records, `${id}.json`), 'utf8')) as {
        networks: { conflist: { plugins: { type: string }[] } }[];
      };
      return record.networks[0].conflist.plugins.map((p) => p.type);
    };
    const plain = await world.client.containers.create('', { image: world.image, cmd: ['sleep', '30'] });
    await world.client.containers.start(plain.id);
    assert.deepEqual(await pluginsOf(plain.id), ['bridge']);
    const port = await freePort();
    const full = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sh', '-c', 'echo ok > /tmp/index.html && httpd -f -p 80 -h /tmp'],
      publish: [`127.0.0.1:${port}:80`],
      macAddress: '02:42:ac:11:00:99',
    });
    const started = await world.client.containers.start(full.id);
    assert.deepEqual(await pluginsOf(full.id), ['bridge', 'portmap', 'tuning']);
    assert.equal(started.networks[0].macAddress, '02:42:ac:11:00:99');
    assert.equal(await eventually('the published port answers', () => tryGet(`http://127.0.0.1:${port}/index.html`)), 'ok\n');
    for (const c of [plain, full]) await world.client.containers.remove(c.id, true);
  });

  it('bad input is a clear error and nothing is half-created', async () => {
    const dirs = daemonDirs(world.daemon);
    await warmBridge(world.client, world.image);
    const before = await daemonSnapshot(world.daemon, world.client);
    const count = (await world.client.containers.list(true)).length;
    const bridge = await networksApi(world.daemon, cleanup).inspect('bridge');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ network: 'no-such-net' }, /no-such-net/],
      [{ ip: '192.0.2.7' }, new RegExp(`192\\.0\\.2\\.7.*${bridge.subnet.replace(/[./]/g, '\\$&')}`)],
      [{ publish: ['80:abc'] }, /80:abc/],
      [{ publish: ['70000:80'] }, /70000/],
      [{ network: 'none', publish: ['8080:80'] }, /conflicting options/],
    ];
    for (const [config, message] of cases) {
      await assert.rejects(
        world.client.containers.create('', { image: world.image, cmd: ['true'], ...config }),
        message,
        JSON.stringify(config),
      );
    }
    assert.equal((await world.client.containers.list(true)).length, count, 'no container record');
    const api = networksApi(world.daemon, cleanup);
    const networks = (await api.list()).map((n) => n.name).sort();
    await assert.rejects(api.create('overlapping', { subnet: bridge.subnet }), /overlap/i);
    assert.deepEqual((await api.list()).map((n) => n.name).sort(), networks);
    assert.deepEqual(await daemonSnapshot(world.daemon, world.client), before);
    await eventually('no leftovers', async () => ((await allocatedIps(dirs, 'bridge')).length === 0 ? true : undefined));
  });
});
