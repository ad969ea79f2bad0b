// gantry.v1.Networks through gantryd (create, list, inspect, rm refused while
// in use, prune, events) and networks across a gantryd SIGKILL: a running
// container keeps its address and published port, one that died meanwhile
// has its network released by recovery.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../helpers/ports';
import { runCommand } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { allocatedIps, httpGet } from '../network/harness';
import { containerWorld, eventually, runAttached, type ContainerWorld } from './harness';
import { daemonDirs, daemonSnapshot, networksApi, startWeb, warmBridge } from './networkHelpers';

describe('container networking: the Networks API and recovery', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });

  async function networkEvents(): Promise<{ topic: string; id: string; attributes: Record<string, string> }[]> {
    const out: { topic: string; id: string; attributes: Record<string, string> }[] = [];
    for await (const m of world.client.events.subscribe({ since: 0, topics: ['/networks/'], noFollow: true })) {
      if (m.kind?.$case === 'event') out.push({ topic: m.kind.value.topic, id: m.kind.value.id, attributes: m.kind.value.attributes });
    }
    return out;
  }

  it('creates, lists, inspects a user network; rm is refused while a container is configured for it; prune; events', async () => {
    const api = networksApi(world.daemon, cleanup);
    const dirs = daemonDirs(world.daemon);
    await warmBridge(world.client, world.image);
    const created = await api.create('appnet');
    assert.equal(created.driver, 'bridge');
    assert.match(created.subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const names = (await api.list()).map((n) => n.name);
    assert.ok(names.includes('bridge') && names.includes('appnet'), names.join(','));
    assert.equal((await api.inspect('appnet')).id, created.id);
    assert.equal((await api.list()).find((n) => n.name === 'bridge')?.builtin, true);

    const c = await world.client.containers.create('on-appnet', {
      image: world.image,
      cmd: ['sleep', '300'],
      network: 'appnet',
      networkAliases: ['db'],
    });
    await world.client.containers.start(c.id);
    const ep = (await world.client.containers.inspect(c.id)).container!.networks;
    assert.equal(ep.length, 1);
    assert.equal(ep[0].network, 'appnet');
    assert.deepEqual(ep[0].aliases, ['db']);
    assert.deepEqual((await api.inspect('appnet')).containers, [c.id]);
    await assert.rejects(api.remove('appnet'), /on-appnet/);
    await world.client.containers.stop(c.id, { timeoutSeconds: 0 });
    // Stopped, but still configured for it.
    await assert.rejects(api.remove('appnet'), /on-appnet/);
    await assert.rejects(api.remove('bridge'));
    await world.client.containers.remove(c.id, true);

    await api.create('spare');
    assert.deepEqual((await api.prune()).sort(), ['appnet', 'spare']);
    assert.deepEqual(
      (await api.list()).map((n) => n.name),
      ['bridge'],
    );
    assert.deepEqual(await allocatedIps(dirs, 'appnet'), []);
    assert.ok(!(await runCommand('ip', ['-o', 'link', 'show'])).stdout.includes(created.bridge), "the network's bridge is gone");

    const events = await networkEvents();
    const topics = events.filter((e) => e.attributes.name === 'appnet' || e.attributes.network === 'appnet').map((e) => e.topic);
    assert.deepEqual(topics, ['/networks/create', '/networks/connect', '/networks/disconnect', '/networks/destroy']);
    assert.equal(events.find((e) => e.topic === '/networks/connect' && e.attributes.network === 'appnet')?.attributes.container, c.id);
  });

  it('after a gantryd SIGKILL the published port still answers; a container that died meanwhile has its network released', async () => {
    const dirs = daemonDirs(world.daemon);
    await warmBridge(world.client, world.image);
    const before = await daemonSnapshot(world.daemon, world.client);
    const webPort = await freePort();
    const web = await startWeb(world.client, world.image, 'still here', { publish: [`${webPort}:80`] }, webPort);
    const doomedPort = await freePort();
    const doomed = await startWeb(world.client, world.image, 'doomed', { publish: [`${doomedPort}:80`] }, doomedPort);
    const doomedIp = (await world.client.containers.inspect(doomed.id)).container!.networks[0].ipAddress;

    await world.daemon.kill();
    assert.equal(await httpGet(`http://127.0.0.1:${webPort}/`), 'still here\n', 'answers while no gantryd runs');
    await runCommand('runc', ['--root', path.join(world.daemon.state, 'runc'), 'kill', doomed.id, 'KILL']);
    await eventually('the doomed container to exit', async () =>
      fs.existsSync(path.join(world.daemon.state, 'exits', doomed.id)) ? true : undefined,
    );

    await world.daemon.start();
    world.client.close();
    world.client = world.daemon.client();
    assert.equal(await httpGet(`http://127.0.0.1:${webPort}/`), 'still here\n');
    const inspect = await world.client.containers.inspect(web.id);
    assert.deepEqual(
      inspect.container!.ports.map((p) => p.hostPort),
      [webPort],
      'inspect shows the port after the restart',
    );
    await eventually("the doomed container's network to be released", async () => {
      const { rules } = await daemonSnapshot(world.daemon, world.client);
      const gone =
        !fs.existsSync(path.join(dirs.netnsDir, doomed.id)) &&
        !(await allocatedIps(dirs, 'bridge')).includes(doomedIp) &&
        !rules.some(
          (r) => r.includes(doomed.id) || r.includes(`--dport ${doomedPort}`) || r.includes(`${doomedIp}/`) || r.includes(`${doomedIp}:`),
        );
      return gone ? true : undefined;
    });
    assert.deepEqual((await world.client.containers.inspect(doomed.id)).container!.networks, []);
    // The next start of the doomed one attaches afresh.
    await world.client.containers.start(doomed.id);
    await eventually('the doomed one to answer again', () =>
      httpGet(`http://127.0.0.1:${doomedPort}/`).then(
        (b) => (b === 'doomed\n' ? true : undefined),
        () => undefined,
      ),
    );

    await world.client.containers.remove(web.id, true);
    await world.client.containers.remove(doomed.id, true);
    assert.deepEqual(await daemonSnapshot(world.daemon, world.client), before);
  });
});

describe('container networking: a host without the CNI plugins', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();

  it('gantryd starts; none and host work; a bridge run and network create say what to install, creating nothing', async () => {
    const empty = await makeTempDir('gt-nocni', cleanup);
    const world = await containerWorld(cleanup, {}, ['--cni-bin-dir', empty]);
    for (const network of ['none', 'host']) {
      const r = await runAttached(world.client, { image: world.image, cmd: ['echo', network], network, autoRemove: true });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, `${network}\n`);
    }
    await assert.rejects(
      world.client.containers.create('', { image: world.image, cmd: ['true'] }),
      /CNI plugin bridge.*apt-get install containernetworking-plugins/,
    );
    assert.deepEqual(await world.client.containers.list(true), []);
    await assert.rejects(networksApi(world.daemon, cleanup).create('x'), /containernetworking-plugins/);
    // `gantry info` says so too, with what to install.
    const info = await world.daemon.cli(['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Networks:\s+none, host\n/);
    assert.match(info.stdout, /WARNING: only --network none and host work: .*apt-get install containernetworking-plugins/);
  });
});
