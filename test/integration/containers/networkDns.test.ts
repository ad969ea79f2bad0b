// Container DNS on user networks (docs/networking.md, "Names on user
// networks"), with real containers and a real gantryd: peers resolve each
// other by name and alias through the network's embedded resolver (busybox
// `nslookup`, which speaks DNS itself, and `wget`); other names go to the
// container's --dns server (a responder this test starts on the host's
// address); a removed container stops resolving; another user network and
// the default bridge resolve none of them; names survive a gantryd SIGKILL.
import * as assert from 'node:assert/strict';
import { startDnsResponder, type DnsResponder } from '../../helpers/dnsResponder';
import { suiteCleanup } from '../../helpers/tmp';
import { hostAddress } from '../network/harness';
import { containerWorld, runAttached, type ContainerWorld, type RunResult } from './harness';
import { networksApi } from './networkHelpers';

describe('container networking: DNS on user networks', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;
  let upstreamDns: DnsResponder;
  let host: string;
  let gateway: string;
  let otherGateway: string;

  /** A one-off container on `network` running `script`. */
  const sh = (network: string, script: string, extra: { dns?: string[] } = {}): Promise<RunResult> =>
    runAttached(world.client, { image: world.image, cmd: ['sh', '-c', script], network, autoRemove: true, ...extra });

  const startWeb = async (name: string, network: string, aliases: string[], body: string): Promise<string> => {
    const script = `mkdir -p /www && echo '${body}' > /www/index.html && exec httpd -f -p 80 -h /www`;
    const c = await world.client.containers.create(name, {
      image: world.image,
      cmd: ['sh', '-c', script],
      network,
      networkAliases: aliases,
    });
    await world.client.containers.start(c.id);
    return c.id;
  };

  const ipOf = async (id: string): Promise<string> => (await world.client.containers.inspect(id)).container!.networks[0].ipAddress;

  before(async () => {
    world = await containerWorld(cleanup);
    host = await hostAddress();
    // The container's --dns server: on the host's own address (not loopback, which the container cannot reach), port 53.
    upstreamDns = await startDnsResponder({ 'outside.gantry.test': '198.51.100.77' }, { address: host, port: 53, cleanup });
    const api = networksApi(world.daemon, cleanup);
    gateway = (await api.create('dnsnet')).gateway;
    otherGateway = (await api.create('othernet')).gateway;
  });

  it('peers resolve each other by name and alias (nslookup and wget); resolv.conf names the resolver; outside names go to --dns', async () => {
    const web = await startWeb('web', 'dnsnet', ['front'], 'hello by name');
    const webIp = await ipOf(web);

    const byName = await sh(
      'dnsnet',
      'cat /etc/resolv.conf; nslookup web; nslookup FRONT; nslookup ' +
        web.slice(0, 12) +
        '; wget -q -O - http://web/; wget -q -O - http://front/',
    );
    assert.equal(byName.exitCode, 0, byName.stdout + byName.stderr);
    assert.match(byName.stdout, new RegExp(`^nameserver ${gateway.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(byName.stdout.match(/^nameserver /gm)?.length, 1, 'the resolver is the only nameserver');
    assert.equal(
      byName.stdout.split(`Address: ${webIp}`).length - 1,
      3,
      `web, FRONT and the short ID resolve to ${webIp}:\n${byName.stdout}`,
    );
    assert.equal(byName.stdout.split('hello by name').length - 1, 2, 'wget by name and by alias');

    const outside = await sh('dnsnet', 'nslookup outside.gantry.test && nslookup web', { dns: [host] });
    assert.equal(outside.exitCode, 0, outside.stdout + outside.stderr);
    assert.match(outside.stdout, /Address: 198\.51\.100\.77/);
    assert.match(outside.stdout, new RegExp(`Address: ${webIp.replace(/\./g, '\\.')}`), 'peers still resolve with --dns');
    assert.ok(upstreamDns.queries.udp.includes('outside.gantry.test'), 'the query went to the --dns server');
    assert.ok(!upstreamDns.queries.udp.includes('web'), 'names of the network are not forwarded');
  });

  it('another user network and the default bridge resolve none of them; the resolver refuses them', async () => {
    const webIp = await ipOf((await world.client.containers.inspect('web')).container!.id);
    const other = await sh(
      'othernet',
      `nslookup web; echo "rc=$?"; nslookup web ${gateway}; echo "rc=$?"; wget -T 2 -q -O - http://${webIp}/; echo "rc=$?"; cat /etc/resolv.conf`,
      { dns: [host] },
    );
    // (busybox's static wget may even crash when its -T timeout fires: any failure will do.)
    assert.match(other.stdout, /rc=1\n[\s\S]*rc=1\n[\s\S]*rc=[1-9]\d*\n/, other.stdout);
    assert.ok(!other.stdout.includes('hello by name'), 'nor can it reach them');
    assert.match(other.stdout, new RegExp(`^nameserver ${otherGateway.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(other.stdout + other.stderr, /REFUSED/i, "dnsnet's resolver refuses a container of othernet");

    const onBridge = await sh('bridge', 'cat /etc/resolv.conf; nslookup web; echo "rc=$?"', { dns: [host] });
    assert.match(
      onBridge.stdout,
      new RegExp(`^nameserver ${host.replace(/\./g, '\\.')}$`, 'm'),
      'the default bridge keeps its upstream servers',
    );
    assert.match(onBridge.stdout, /rc=1/);
  });

  it('a removed container stops resolving at once; names resolve again after a gantryd SIGKILL and restart', async () => {
    const db = await startWeb('db', 'dnsnet', ['store'], 'db');
    const dbIp = await ipOf(db);
    const before = await sh('dnsnet', 'nslookup db && nslookup store');
    assert.equal(before.exitCode, 0, before.stdout + before.stderr);
    assert.ok(before.stdout.includes(`Address: ${dbIp}`));

    await world.client.containers.remove(db, true);
    const after = await sh('dnsnet', 'nslookup db; echo "rc=$?"; nslookup store; echo "rc=$?"', { dns: [host] });
    assert.match(after.stdout, /rc=1\n[\s\S]*rc=1\n/, after.stdout);
    assert.ok(!after.stdout.includes(dbIp), after.stdout);

    await world.daemon.kill();
    await world.daemon.start();
    world.client.close();
    world.client = world.daemon.client();
    const webIp = await ipOf((await world.client.containers.inspect('web')).container!.id);
    const restarted = await sh('dnsnet', 'nslookup web && nslookup front && wget -q -O - http://front/');
    assert.equal(restarted.exitCode, 0, restarted.stdout + restarted.stderr);
    assert.ok(restarted.stdout.includes(`Address: ${webIp}`), restarted.stdout);
    assert.match(restarted.stdout, /hello by name/);
  });
});
