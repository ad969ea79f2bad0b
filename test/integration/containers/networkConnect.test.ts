// `network connect` / `network disconnect` through gantryd with real CNI
// plugins and runc: a running container gets eth1 on the second network and
// reaches a container there; disconnect takes it away and releases the IP;
// a stopped container gets it at its next start, and keeps it across
// restarts and a gantryd SIGKILL; the refusals; events; the CLI.
import * as assert from 'node:assert/strict';
import type { ContainerConfig } from '../../../runtime/api/gen/gantry/v1/containers';
import type { RuntimeClient } from '../../../runtime/client';
import { suiteCleanup } from '../../helpers/tmp';
import { allocatedIps } from '../network/harness';
import { containerWorld, eventually, type ContainerWorld } from './harness';
import { daemonDirs, startWeb, warmBridge } from './networkHelpers';

describe('container networking: network connect and disconnect', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
    await warmBridge(world.client, world.image);
  });

  afterEach(async () => {
    for (const c of await world.client.containers.list(true)) await world.client.containers.remove(c.id, true);
    for (const n of await world.client.networks.list()) if (!n.builtin) await world.client.networks.remove(n.name);
  });

  const sh = async (id: string, script: string) => {
    const r = await world.daemon.cli(['exec', id, 'sh', '-c', script]);
    return { code: r.code, out: r.stdout.trim(), err: r.stderr };
  };

  async function sleeper(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const c = await world.client.containers.create(name, { image: world.image, cmd: ['sleep', '600'], ...extra });
    return c.id;
  }

  async function endpoints(client: RuntimeClient, id: string) {
    return (await client.containers.inspect(id)).container!.networks.map((n) => ({
      network: n.network,
      iface: n.interface,
      ip: n.ipAddress,
    }));
  }

  async function networkEvents(): Promise<{ topic: string; id: string; attributes: Record<string, string> }[]> {
    const out: { topic: string; id: string; attributes: Record<string, string> }[] = [];
    for await (const m of world.client.events.subscribe({ since: 0, topics: ['/networks/'], noFollow: true })) {
      if (m.kind?.$case === 'event') out.push({ topic: m.kind.value.topic, id: m.kind.value.id, attributes: m.kind.value.attributes });
    }
    return out;
  }

  it('connects a running container (eth1 on the second subnet, reaches a container there), then disconnects it (eth1 gone, IP released)', async () => {
    const dirs = daemonDirs(world.daemon);
    const second = await world.client.networks.create({ name: 'second' });
    const web = await startWeb(world.client, world.image, 'on second', { publish: [], network: 'second' });
    const webIp = (await endpoints(world.client, web.id))[0].ip;
    const id = await sleeper('joiner');
    await world.client.containers.start(id);

    await world.client.networks.connect('second', 'joiner', { aliases: ['j2'] });
    const eps = await endpoints(world.client, id);
    assert.deepEqual(
      eps.map((e) => [e.network, e.iface]),
      [
        ['bridge', 'eth0'],
        ['second', 'eth1'],
      ],
    );
    const ip2 = eps[1].ip;
    const prefix = second.subnet.split('.').slice(0, 3).join('.');
    assert.ok(ip2.startsWith(`${prefix}.`), `${ip2} in ${second.subnet}`);
    assert.deepEqual((await world.client.containers.inspect(id)).container!.networks[1].aliases, ['j2']);
    const addr = await sh(id, 'ip -o -4 addr show eth1');
    assert.equal(addr.code, 0, addr.err);
    assert.ok(addr.out.includes(`${ip2}/`), addr.out);
    await eventually('the web container to answer over eth1', async () => {
      const r = await sh(id, `wget -q -O - http://${webIp}/`);
      return r.out === 'on second' ? true : undefined;
    });
    assert.ok((await sh(id, 'cat /etc/hosts')).out.includes(ip2), '/etc/hosts has the new address');
    const routes = await sh(id, 'ip route | grep ^default');
    assert.equal(routes.out.split('\n').length, 1, `one default route, the first network's: ${routes.out}`);
    assert.match(routes.out, /dev eth0/);
    assert.deepEqual((await world.client.networks.inspect('second')).containers.sort(), [id, web.id].sort());
    await assert.rejects(world.client.networks.remove('second'), /joiner/);

    await world.client.networks.disconnect('second', id);
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => e.network),
      ['bridge'],
    );
    assert.notEqual((await sh(id, 'ip link show eth1')).code, 0, 'eth1 is gone');
    assert.ok(!(await sh(id, 'cat /etc/hosts')).out.includes(ip2), '/etc/hosts lost the address');
    assert.ok(!(await allocatedIps(dirs, 'second')).includes(ip2), 'the IP is released');
    assert.deepEqual((await world.client.networks.inspect('second')).containers, [web.id]);

    // Loopback only, as Docker allows; then connected again to its primary network.
    await world.client.networks.disconnect('bridge', id);
    assert.deepEqual(await endpoints(world.client, id), []);
    assert.notEqual((await sh(id, 'ip link show eth0')).code, 0, 'eth0 is gone');
    assert.equal((await sh(id, 'ip link show lo')).code, 0);
    // A start with no network left: a sandbox with loopback only, to connect to later.
    await world.client.containers.restart(id, 0);
    assert.deepEqual(await endpoints(world.client, id), []);
    assert.notEqual((await sh(id, 'ip link show eth0')).code, 0, 'no eth0 after the restart');
    assert.equal((await sh(id, 'ip link show lo')).code, 0);
    await world.client.networks.connect('bridge', id);
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => [e.network, e.iface]),
      [['bridge', 'eth0']],
    );

    const events = (await networkEvents()).filter((e) => e.attributes.container === id && e.attributes.network === 'second');
    assert.deepEqual(
      events.map((e) => e.topic),
      ['/networks/connect', '/networks/disconnect'],
    );
    assert.equal(events[0].id, second.id);
    assert.equal(events[0].attributes.name, 'joiner');
  });

  it('a stopped container is connected at its next start; restart and a gantryd SIGKILL keep both networks', async () => {
    await world.client.networks.create({ name: 'later' });
    const id = await sleeper('stopped', { restartPolicy: { name: 'always', maximumRetryCount: 0 } });
    await world.client.networks.connect('later', id, { ip: '' });
    assert.deepEqual(await endpoints(world.client, id), [], 'not attached while created');
    await assert.rejects(world.client.networks.remove('later'), /in use by container stopped/);
    await world.client.containers.start(id);
    const both = ['bridge', 'later'];
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => e.network),
      both,
    );
    assert.equal((await sh(id, 'ip link show eth1')).code, 0);

    await world.client.containers.restart(id, 0);
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => e.network),
      both,
    );
    assert.equal((await sh(id, 'ip link show eth1')).code, 0, 'eth1 after restart');

    // A restart by the policy: the task is killed behind gantryd's back.
    const pid = (await world.client.containers.inspect(id)).container!.pid;
    process.kill(pid, 'SIGKILL');
    await eventually('the restart by the policy', async () => {
      const c = (await world.client.containers.inspect(id)).container!;
      return c.pid !== pid && c.pid > 0 && c.networks.length === 2 ? true : undefined;
    });
    assert.equal((await sh(id, 'ip link show eth1')).code, 0, 'eth1 after a policy restart');

    await world.daemon.kill();
    await world.daemon.start();
    world.client.close();
    world.client = world.daemon.client();
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => e.network),
      both,
    );
    assert.equal((await sh(id, 'ip link show eth1')).code, 0, 'eth1 after a gantryd SIGKILL');

    // The record keeps the connection: stop, disconnect while stopped, start → the primary only.
    await world.client.containers.stop(id, { timeoutSeconds: 0 });
    await world.client.networks.disconnect('later', id);
    await world.client.containers.start(id);
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => e.network),
      ['bridge'],
    );
  });

  it('refuses what Docker refuses, changing nothing', async () => {
    await world.client.networks.create({ name: 'other' });
    const id = await sleeper('plain');
    await world.client.containers.start(id);
    await world.client.networks.connect('other', id);
    await assert.rejects(world.client.networks.connect('other', id), /endpoint with name plain already exists in network other/);
    await assert.rejects(world.client.networks.connect('bridge', id), /already exists in network bridge/);
    await assert.rejects(world.client.networks.connect('nonet', id), /network nonet not found/);
    await assert.rejects(world.client.networks.connect('other', 'nobody'), /no such container: nobody/);
    await assert.rejects(world.client.networks.connect('host', id), /host network/);
    await assert.rejects(world.client.networks.connect('other', id, { ip: '192.0.2.1' }), /not in network "other"'s subnet/);
    const none = await sleeper('isolated', { network: 'none' });
    await assert.rejects(world.client.networks.connect('other', none), /private \(none\) mode/);
    const host = await sleeper('hosted', { network: 'host' });
    await assert.rejects(world.client.networks.connect('other', host), /host network/);
    await world.client.networks.disconnect('other', id);
    await assert.rejects(world.client.networks.disconnect('other', id), /container plain is not connected to network other/);
    assert.deepEqual(
      (await endpoints(world.client, id)).map((e) => e.network),
      ['bridge'],
    );
    await assert.rejects(world.client.networks.disconnect('nonet', id), /not found/);

    // A failed ADD (the address is taken: host-local refuses it) changes nothing: no eth1, same record and config.
    const other = await world.client.networks.inspect('other');
    const taken = `${other.subnet.split('.').slice(0, 3).join('.')}.50`;
    const holder = await sleeper('holder', { network: 'other', ip: taken });
    await world.client.containers.start(holder);
    const before = await world.client.containers.inspect(id);
    await assert.rejects(world.client.networks.connect('other', id, { ip: taken }), /other/);
    const after = await world.client.containers.inspect(id);
    assert.deepEqual(after.container!.networks, before.container!.networks);
    assert.deepEqual(after.config!.connectedNetworks, []);
    assert.notEqual((await sh(id, 'ip link show eth1')).code, 0, 'no eth1 after a failed ADD');
    assert.deepEqual(await world.client.networks.inspect('other').then((n) => n.containers), [holder]);
    // and the container can still be connected afterwards.
    await world.client.networks.connect('other', id);
    assert.equal((await sh(id, 'ip link show eth1')).code, 0);
  });

  it('the CLI: connect --alias --ip, disconnect, exit codes', async () => {
    const net = await world.client.networks.create({ name: 'clinet' });
    const ip = `${net.subnet.split('.').slice(0, 3).join('.')}.77`;
    await sleeper('clic');
    await world.client.containers.start('clic');
    let r = await world.daemon.cli(['network', 'connect', '--alias', 'db', '--ip', ip, 'clinet', 'clic']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const ep = (await world.client.containers.inspect('clic')).container!.networks.find((n) => n.network === 'clinet')!;
    assert.equal(ep.ipAddress, ip);
    assert.deepEqual(ep.aliases, ['db']);
    r = await world.daemon.cli(['network', 'connect', 'clinet', 'clic']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists in network clinet/);
    r = await world.daemon.cli(['network', 'disconnect', 'clinet', 'clic']);
    assert.equal(r.code, 0, r.stderr);
    r = await world.daemon.cli(['network', 'disconnect', 'clinet', 'clic']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not connected to network clinet/);
    r = await world.daemon.cli(['network', 'connect', 'clinet']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NETWORK and a CONTAINER/);
  });
});

describe('container networking: --network container:NAME', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  afterEach(async () => {
    for (const c of await world.client.containers.list(true)) await world.client.containers.remove(c.id, true);
  });

  const sh = async (id: string, script: string) => {
    const r = await world.daemon.cli(['exec', id, 'sh', '-c', script]);
    return { code: r.code, out: r.stdout.trim(), err: r.stderr };
  };

  for (const mode of ['bridge', 'none']) {
    it(`two containers share one namespace (target on ${mode}): ip addr, hostname, /etc/hosts; a server in one answers on 127.0.0.1 in the other`, async () => {
      const target = await world.client.containers.create('target', {
        image: world.image,
        cmd: ['sh', '-c', 'mkdir -p /www && echo shared > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'],
        network: mode,
      });
      await world.client.containers.start(target.id);
      const joiner = await world.client.containers.create('joiner', {
        image: world.image,
        cmd: ['sleep', '600'],
        network: 'container:target',
      });
      assert.equal(joiner.network, `container:${target.id}`, 'kept by ID, as Docker NetworkMode');
      await world.client.containers.start(joiner.id);
      const addrs = async (id: string) => (await sh(id, "ip -o addr | awk '{print $2, $4}'")).out;
      assert.equal(await addrs(joiner.id), await addrs(target.id));
      assert.equal((await sh(joiner.id, 'hostname')).out, (await sh(target.id, 'hostname')).out);
      assert.equal((await sh(joiner.id, 'cat /etc/hosts')).out, (await sh(target.id, 'cat /etc/hosts')).out);
      assert.equal((await sh(joiner.id, 'cat /etc/resolv.conf')).out, (await sh(target.id, 'cat /etc/resolv.conf')).out);
      await eventually('the target to answer on 127.0.0.1 inside the joiner', async () => {
        const r = await sh(joiner.id, 'wget -q -O - http://127.0.0.1:8080/');
        return r.out === 'shared' ? true : undefined;
      });
      const inspect = await world.client.containers.inspect(joiner.id);
      assert.equal(inspect.config!.network, `container:${target.id}`);
      assert.deepEqual(inspect.container!.networks, [], 'no endpoints of its own');
      assert.equal(inspect.hostname, (await sh(target.id, 'hostname')).out, "inspect's hostname is the target's");
      await assert.rejects(world.client.networks.connect('bridge', joiner.id), /sharing network namespace/);

      // Removing the target while the joiner runs is allowed; the joiner keeps the namespace (loopback at least).
      await world.client.containers.remove(target.id, true);
      const lo = await sh(joiner.id, 'ip link show lo');
      assert.equal(lo.code, 0, lo.err);
    });
  }

  it('a joiner created while its target ran, started after the target restarted, joins the namespace of its new task', async () => {
    const target = await world.client.containers.create('restarted', { image: world.image, cmd: ['sleep', '600'] });
    await world.client.containers.start(target.id);
    const joiner = await world.client.containers.create('', {
      image: world.image,
      cmd: ['sleep', '600'],
      network: 'container:restarted',
    });
    const before = (await world.client.containers.inspect(target.id)).container!.pid;
    await world.client.containers.restart(target.id, 0);
    assert.notEqual((await world.client.containers.inspect(target.id)).container!.pid, before);
    await world.client.containers.start(joiner.id);
    const netns = async (id: string) => (await sh(id, 'readlink /proc/self/ns/net')).out;
    assert.match(await netns(target.id), /^net:\[\d+\]$/);
    assert.equal(await netns(joiner.id), await netns(target.id));
  });

  it('refuses conflicting options, an unknown target, and a start while the target does not run', async () => {
    const target = await world.client.containers.create('sleeper', { image: world.image, cmd: ['sleep', '600'] });
    const join = { image: world.image, cmd: ['true'], network: 'container:sleeper' };
    for (const [extra, message] of [
      [{ publish: ['8080:80'] }, /conflicting options: port publishing and the container type network mode/],
      [{ publishAll: true }, /port publishing/],
      [{ expose: ['80'] }, /conflicting options: port exposing/],
      [{ hostname: 'h' }, /conflicting options: hostname and the network mode/],
      [{ dns: ['1.1.1.1'] }, /conflicting options: dns and the network mode/],
      [{ addHosts: ['a:1.2.3.4'] }, /conflicting options: custom host-to-IP mapping/],
      [{ macAddress: '02:42:ac:11:00:02' }, /conflicting options: mac-address/],
      [{ ip: '10.0.0.5' }, /user specified IP address is supported on user defined networks only/],
      [{ networkAliases: ['x'] }, /network-scoped alias is supported only/],
    ] as [Partial<ContainerConfig>, RegExp][]) {
      await assert.rejects(world.client.containers.create('', { ...join, ...extra }), message, JSON.stringify(extra));
    }
    await assert.rejects(world.client.containers.create('', { ...join, network: 'container:ghost' }), /no such container: ghost/);
    await assert.rejects(world.client.containers.create('', { ...join, network: 'container:' }), /not supported/);
    assert.deepEqual(
      (await world.client.containers.list(true)).map((c) => c.id),
      [target.id],
    );
    const joiner = await world.client.containers.create('early', join);
    await assert.rejects(world.client.containers.start(joiner.id), /cannot join network of a non running container: sleeper/);
    const r = await world.daemon.cli(['run', '--rm', '--network', 'container:sleeper', '-p', '80', world.image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /conflicting options: port publishing/);
  });
});
