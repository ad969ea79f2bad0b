// NetworkManager.connect / disconnect with real CNI plugins: one network more
// or less in an existing sandbox (next free interface, default route only
// from the first network), all-or-nothing, and what DEL leaves.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { suiteCleanup } from '../../helpers/tmp';
import { allocatedIps, containerId, ctx, snapshot, startNetworking } from './harness';
import { runCommand } from '../../helpers/proc';

const kind = (k: string) => (e: unknown) => isGantryError(e) && e.kind === k;

async function inNetns(netns: string, argv: string[]): Promise<string> {
  return (await runCommand('nsenter', [`--net=${netns}`, ...argv])).stdout;
}

describe('network: connect and disconnect', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();

  it('connects a second network as eth1 (no second default route), disconnects it leaving no rule or IP; refusals change nothing', async () => {
    const t = await startNetworking(cleanup);
    const two = await t.manager.createNetwork(ctx, { name: 'two' });
    const id = containerId();
    const a = await t.manager.attach(ctx, id, [{ network: 'bridge' }]);
    cleanup.defer(() => t.manager.detach(ctx, id));
    const before = await snapshot(t);

    const c = await t.manager.connect(ctx, id, { network: 'two', aliases: ['x'] });
    assert.deepEqual(
      c.networks.map((n) => [n.network, n.interface]),
      [
        ['bridge', 'eth0'],
        ['two', 'eth1'],
      ],
    );
    assert.deepEqual(c.networks[1].aliases, ['x']);
    const ip2 = c.networks[1].addresses[0].split('/')[0];
    assert.deepEqual(await allocatedIps(t, 'two'), [ip2]);
    assert.ok((await inNetns(a.netns, ['ip', '-o', '-4', 'addr', 'show', 'eth1'])).includes(`${ip2}/`));
    const defaults = (await inNetns(a.netns, ['ip', 'route', 'show', 'default'])).trim().split('\n');
    assert.equal(defaults.length, 1, defaults.join('; '));
    assert.match(defaults[0], /dev eth0/);
    assert.deepEqual(await t.manager.networkUsers('two'), [id]);

    const record = await t.manager.attachment(id);
    await assert.rejects(t.manager.connect(ctx, id, { network: 'two' }), kind('AlreadyExists'));
    await assert.rejects(t.manager.connect(ctx, id, { network: 'nope' }), kind('NotFound'));
    await assert.rejects(t.manager.connect(ctx, id, { network: 'bridge', ip: '192.0.2.9' }), kind('InvalidArgument'));
    assert.deepEqual(await t.manager.attachment(id), record, 'refusals leave the record as it was');

    const d = await t.manager.disconnect(ctx, id, 'two');
    assert.deepEqual(
      d.networks.map((n) => n.network),
      ['bridge'],
    );
    assert.deepEqual(await allocatedIps(t, 'two'), []);
    assert.equal(
      (await runCommand('nsenter', [`--net=${a.netns}`, 'ip', 'link', 'show', 'eth1']).catch(() => undefined))?.stdout ?? '',
      '',
    );
    const after = await snapshot(t);
    assert.deepEqual(
      after.rules.filter((r) => r.includes(`${ip2}/`) || r.includes(`${ip2}:`)),
      [],
    );
    assert.deepEqual(after.netnsFiles, before.netnsFiles);
    // No link left on the network's bridge (the bridge itself stays until the network is removed).
    const onBridge = JSON.parse((await runCommand('ip', ['-j', 'link', 'show', 'master', two.bridge])).stdout || '[]') as unknown[];
    assert.deepEqual(onBridge, []);
    await assert.rejects(t.manager.disconnect(ctx, id, 'two'), kind('FailedPrecondition'));
    // The next connect takes eth1 again; after a "restart" the record is read back.
    await t.manager.connect(ctx, id, { network: 'two' });
    const again = await (await t.restart()).attachment(id);
    assert.deepEqual(
      again?.networks.map((n) => n.interface),
      ['eth0', 'eth1'],
    );
  });

  it('a sandbox with no network (loopback only) gets its default route from the first one connected; no sandbox: refused', async () => {
    const t = await startNetworking(cleanup);
    const id = containerId();
    const a = await t.manager.attach(ctx, id, []);
    cleanup.defer(() => t.manager.detach(ctx, id));
    assert.deepEqual(a.networks, []);
    assert.ok(fs.existsSync(a.netns));
    assert.match(await inNetns(a.netns, ['ip', '-o', 'link', 'show', 'lo']), /UP|LOOPBACK/);
    const c = await t.manager.connect(ctx, id, { network: 'bridge' });
    assert.equal(c.networks[0].interface, 'eth0');
    assert.match(await inNetns(a.netns, ['ip', 'route', 'show', 'default']), /dev eth0/);
    await assert.rejects(t.manager.connect(ctx, containerId(), { network: 'bridge' }), kind('FailedPrecondition'));
  });
});
