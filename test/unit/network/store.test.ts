import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { bridgeConflist } from '../../../runtime/network/configs';
import { NetworkStore, type NetworkInfo } from '../../../runtime/network/store';

describe('network/store', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-netstore-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const info = (name: string): NetworkInfo => ({
    id: `id-${name}`,
    name,
    driver: 'bridge',
    bridge: `br-${name}`,
    subnet: '10.9.0.0/24',
    gateway: '10.9.0.1',
    internal: false,
    labels: { a: 'b' },
    options: {},
    created: '2026-01-01T00:00:00.000Z',
    builtin: false,
    readOnly: false,
    source: path.join(dir, 'networks', `${name}.conflist`),
  });
  const list = (name: string) => bridgeConflist({ ...info(name), ipamDir: '/i', tuningDir: '/t' });

  it("keeps gantryd's networks as <name>.conflist + metadata, and lists --cni-conf-dir ones read-only", async () => {
    const conf = path.join(dir, 'conf');
    fs.mkdirSync(conf);
    fs.writeFileSync(
      path.join(conf, '10-user.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'user',
        plugins: [{ type: 'macvlan', master: 'eth0', ipam: { type: 'host-local', subnet: '10.77.0.0/16' } }],
      }),
    );
    fs.writeFileSync(
      path.join(conf, '20-single.conf'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'single', type: 'bridge', bridge: 'brs' }),
    );
    fs.writeFileSync(
      path.join(conf, '30-clash.conflist'),
      JSON.stringify({ cniVersion: '1.0.0', name: 'app', plugins: [{ type: 'bridge' }] }),
    );
    fs.writeFileSync(path.join(conf, '40-broken.conflist'), '{');
    const store = new NetworkStore(path.join(dir, 'networks'), conf);
    await store.init();
    await store.save(info('app'), list('app'));
    // A file that is not a network's metadata in the same dir is not one.
    fs.writeFileSync(path.join(dir, 'networks', 'ports.json'), '{"reservations":[]}');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'networks', 'app.conflist'), 'utf8')), list('app'));
    const skipped: string[] = [];
    const all = await store.list((file, why) => skipped.push(`${path.basename(file)}: ${why}`));
    assert.deepEqual(
      all.map((n) => [n.info.name, n.info.driver, n.info.readOnly, n.info.subnet]),
      [
        ['app', 'bridge', false, '10.9.0.0/24'],
        ['user', 'macvlan', true, '10.77.0.0/16'],
        ['single', 'bridge', true, ''],
      ],
    );
    assert.equal(all[2].info.bridge, 'brs');
    assert.equal(skipped.length, 2);
    assert.equal(skipped[0], '30-clash.conflist: the name app is taken');
    assert.match(skipped[1], /^40-broken\.conflist: CNI config \/.*\/40-broken\.conflist: not JSON: /);
    assert.equal((await store.get('id-app')).info.name, 'app');
    await assert.rejects(
      store.get('nosuch'),
      (e: unknown) => isGantryError(e) && e.kind === 'NotFound' && e.message === 'network nosuch not found',
    );
    await store.remove('app');
    assert.equal(fs.existsSync(path.join(dir, 'networks', 'app.conflist')), false);
    assert.equal((await store.get('app')).info.readOnly, true, 'now the user-provided list of that name shows');
  });
});
