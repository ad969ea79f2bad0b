// What the networking core leaves behind: nothing after DEL, nothing after
// many cycles, and a restart that finds namespaces and records again.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { parsePublish } from '../../../runtime/network/index';
import { linkExists } from '../../../runtime/network/bridges';
import { runCommand } from '../../helpers/proc';
import { freePort } from '../../helpers/ports';
import { suiteCleanup } from '../../helpers/tmp';
import { allocatedIps, containerId, ctx, httpGet, snapshot, startHttpd, startNetworking } from './harness';

describe('network: cleanup and recovery', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();

  it('DEL releases everything: no rule mentions the container, its IP or host port; links, netns and IPAM as before', async () => {
    const t = await startNetworking(cleanup);
    // One attach/detach first: the bridge and the plugins' shared chains
    // (CNI-FORWARD, CNI-HOSTPORT-*, CNI-ISOLATION-*) stay by design.
    const warm = containerId();
    await t.manager.attach(ctx, warm, [{ network: 'bridge' }], { ports: parsePublish(`${await freePort()}:80`) });
    await t.manager.detach(ctx, warm);
    const before = await snapshot(t);

    const id = containerId();
    const hostPort = await freePort();
    const a = await t.manager.attach(ctx, id, [{ network: 'bridge' }], { ports: parsePublish(`${hostPort}:80`) });
    const ip = a.networks[0].addresses[0].split('/')[0];
    const during = await snapshot(t);
    const mentions = (rules: string[]) =>
      rules.filter((r) => r.includes(id.slice(0, 12)) || r.includes(`${ip}/`) || r.includes(`${ip}:`) || r.includes(`--dport ${hostPort}`));
    assert.ok(mentions(during.rules).length > 0, 'the attach added rules for the container');
    assert.ok(during.netnsFiles.includes(id));
    assert.deepEqual(await allocatedIps(t, 'bridge'), [ip]);

    await t.manager.detach(ctx, id);
    const after = await snapshot(t);
    assert.deepEqual(mentions(after.rules), []);
    assert.deepEqual(after, before);
    assert.equal(await t.manager.attachment(id), undefined);
    await t.manager.detach(ctx, id); // idempotent
  });

  it('20 attach/detach cycles leave no IP allocated', async () => {
    const t = await startNetworking(cleanup);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const id = containerId();
      const a = await t.manager.attach(ctx, id, [{ network: 'bridge' }], { ports: parsePublish('127.0.0.1::80') });
      seen.add(a.networks[0].addresses[0]);
      await t.manager.detach(ctx, id);
    }
    assert.ok(seen.size > 1, 'host-local hands out addresses round-robin');
    assert.deepEqual(await allocatedIps(t, 'bridge'), []);
    assert.deepEqual(await fs.promises.readdir(t.netnsDir), []);
    assert.deepEqual(await t.manager.listAttachments(), []);
  });

  it('after a restart the namespace, the record and the port are found again; recovery releases dead containers', async () => {
    const t = await startNetworking(cleanup);
    const live = containerId();
    const dead = containerId();
    const hostPort = await freePort();
    const a = await t.manager.attach(ctx, live, [{ network: 'bridge' }], { ports: parsePublish(`${hostPort}:80`) });
    await t.manager.attach(ctx, dead, [{ network: 'bridge' }]);
    await startHttpd(a.netns, 'still here\n', cleanup);

    const again = await t.restart();
    const found = await again.attachment(live);
    assert.deepEqual(found, a);
    assert.ok((await again.check(ctx, live)).ok);
    await assert.rejects(
      again.attach(ctx, `x${containerId().slice(1)}`, [{ network: 'bridge' }], { ports: parsePublish(`${hostPort}:80`) }),
      new RegExp(`already published by container ${live}`),
      'the port table survived',
    );
    // A stray namespace with no record (a crash between netns and record).
    const stray = containerId();
    await runCommand('touch', [`${t.netnsDir}/${stray}`]);
    await runCommand('unshare', [`--net=${t.netnsDir}/${stray}`, 'true']);

    const report = await again.recover(ctx, new Set([live]));
    assert.deepEqual(report, { released: [dead], removedNetns: [stray], problems: [] });
    assert.deepEqual((await fs.promises.readdir(t.netnsDir)).sort(), [live]);
    assert.equal(await httpGet(`http://127.0.0.1:${hostPort}/`), 'still here\n');
    await again.detach(ctx, live);
    assert.deepEqual(await allocatedIps(t, 'bridge'), []);
  });

  it('creates user networks, refusing overlaps; removing one deletes its bridge, isolation rules and IPAM dir', async () => {
    const t = await startNetworking(cleanup);
    const def = await t.manager.inspectNetwork('bridge');
    assert.ok(def.builtin);
    assert.equal(def.bridge, t.bridge);
    await assert.rejects(
      t.manager.createNetwork(ctx, { name: 'clash', subnet: def.subnet }),
      (e: unknown) =>
        isGantryError(e) && e.kind === 'Conflict' && e.message === `subnet ${def.subnet} overlaps network bridge (${def.subnet})`,
    );
    const route = JSON.parse((await runCommand('ip', ['-j', '-4', 'route', 'show', 'scope', 'link'])).stdout)[0]?.dst as string | undefined;
    if (route) await assert.rejects(t.manager.createNetwork(ctx, { name: 'clash', subnet: route }), /overlaps the host route/);
    await assert.rejects(t.manager.createNetwork(ctx, { name: 'bridge' }), (e: unknown) => isGantryError(e) && e.kind === 'AlreadyExists');
    await assert.rejects(t.manager.createNetwork(ctx, { name: 'x', gateway: '1.2.3.4' }), /gateway 1\.2\.3\.4 is not a host address/);
    await assert.rejects(t.manager.removeNetwork(ctx, 'bridge'), /default network and cannot be removed/);
    await assert.rejects(
      t.manager.createNetwork(ctx, { name: 'lo-net', options: { 'bridge.name': 'lo' } }),
      (e: unknown) => isGantryError(e) && e.kind === 'Conflict' && e.message === 'a network interface named lo already exists on the host',
    );

    const net = await t.manager.createNetwork(ctx, { name: 'app', labels: { team: 'a' }, options: { mtu: '1400' } });
    assert.deepEqual(net.labels, { team: 'a' });
    assert.equal(
      (await t.manager.listNetworks())
        .map((n) => n.name)
        .sort()
        .join(','),
      'app,bridge',
    );
    const id = containerId();
    await t.manager.attach(ctx, id, [{ network: 'app' }, { network: 'bridge' }]);
    const a = (await t.manager.attachment(id))!;
    assert.deepEqual(
      a.networks.map((n) => [n.network, n.interface]),
      [
        ['app', 'eth0'],
        ['bridge', 'eth1'],
      ],
    );
    const mtu = (await runCommand('nsenter', [`--net=${a.netns}`, 'cat', '/sys/class/net/eth0/mtu'])).stdout.trim();
    assert.equal(mtu, '1400');
    await t.manager.detach(ctx, id);
    assert.ok(await linkExists(net.bridge));
    await t.manager.removeNetwork(ctx, 'app');
    assert.equal(await linkExists(net.bridge), false);
    assert.equal((await runCommand('iptables-save', [])).stdout.includes(net.bridge), false);
    assert.equal(fs.existsSync(`${t.ipamDir}/app`), false);
    await assert.rejects(t.manager.inspectNetwork('app'), (e: unknown) => isGantryError(e) && e.kind === 'NotFound');
  });
});
