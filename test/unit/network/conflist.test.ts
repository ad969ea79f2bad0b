import * as assert from 'node:assert/strict';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { conflistFromJson, parseConflist, pluginStdin, pluginTypes } from '../../../runtime/network/cni/conflist';
import { resultFromJson } from '../../../runtime/network/cni/result';
import { attachmentConflist, bridgeConflist, conflistSubnets, masqueradeOf, parseBridgeOptions } from '../../../runtime/network/configs';

const spec = {
  name: 'bridge',
  bridge: 'gantry0',
  subnet: '172.17.0.0/16',
  gateway: '172.17.0.1',
  internal: false,
  ipamDir: '/r/networks/ipam',
  tuningDir: '/r/networks/tuning',
};

describe('network/conflist', () => {
  it('generates the bridge → portmap → firewall → tuning list for a network', () => {
    const list = bridgeConflist(spec);
    assert.equal(list.cniVersion, '1.0.0');
    assert.equal(list.name, 'bridge');
    assert.deepEqual(
      list.plugins.map((p) => p.type),
      ['bridge', 'portmap', 'firewall', 'tuning'],
    );
    assert.deepEqual(list.plugins[0], {
      type: 'bridge',
      bridge: 'gantry0',
      isGateway: true,
      // No ipMasq: gantryd masquerades the network with one rule of its own (runtime/network/bridges.ts).
      hairpinMode: true,
      capabilities: { ips: true },
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: '172.17.0.0/16', gateway: '172.17.0.1' }]],
        routes: [{ dst: '0.0.0.0/0' }],
        dataDir: '/r/networks/ipam',
      },
    });
    assert.deepEqual(list.plugins[1], { type: 'portmap', capabilities: { portMappings: true }, snat: true });
    // No ingressPolicy: gantryd isolates its networks itself, once per network (runtime/network/bridges.ts).
    assert.deepEqual(list.plugins[2], { type: 'firewall', backend: 'iptables' });
    assert.deepEqual(list.plugins[3], { type: 'tuning', capabilities: { mac: true }, dataDir: '/r/networks/tuning' });
    assert.deepEqual(pluginTypes(list), ['bridge', 'host-local', 'portmap', 'firewall', 'tuning']);
    assert.deepEqual(conflistSubnets(list), ['172.17.0.0/16']);
  });

  it('an internal network has no gateway, masquerade, route out or portmap; -o sets bridge and MTU', () => {
    const list = bridgeConflist({ ...spec, internal: true, mtu: 1400 });
    assert.deepEqual(
      list.plugins.map((p) => p.type),
      ['bridge', 'firewall', 'tuning'],
    );
    const bridge = list.plugins[0] as Record<string, unknown>;
    assert.equal(bridge.isGateway, false);
    assert.equal(bridge.ipMasq, undefined);
    assert.equal(bridge.mtu, 1400);
    const info = { internal: false, subnet: '10.9.0.0/24', options: {} };
    assert.equal(masqueradeOf(info), '10.9.0.0/24');
    assert.equal(masqueradeOf({ ...info, internal: true }), undefined);
    assert.equal(masqueradeOf({ ...info, options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' } }), undefined);
    assert.deepEqual((bridge.ipam as { routes: unknown[] }).routes, []);
    assert.deepEqual(parseBridgeOptions({ 'com.docker.network.bridge.name': 'br-x', mtu: '9000', 'ip-masq': 'false' }), {
      bridge: 'br-x',
      mtu: 9000,
      ipMasq: false,
    });
    assert.throws(() => parseBridgeOptions({ 'bridge.name': 'a-name-longer-than-15' }), /invalid bridge name/);
    assert.throws(() => parseBridgeOptions({ mtu: '10' }), /invalid MTU/);
    assert.throws(
      () => parseBridgeOptions({ color: 'blue' }),
      (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && /unknown network option "color"/.test(e.message),
    );
  });

  it('gives each plugin only the runtimeConfig its capabilities ask for, plus name, version and prevResult', () => {
    const list = bridgeConflist(spec);
    const rc = {
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const, hostIP: '' }],
      mac: '02:42:ac:11:00:05',
      ips: ['172.17.0.5'],
    };
    const prev = resultFromJson({ cniVersion: '1.0.0', ips: [{ address: '172.17.0.5/16' }] });
    const bridge = pluginStdin(list, list.plugins[0], rc, undefined);
    assert.deepEqual(bridge.runtimeConfig, { ips: ['172.17.0.5'] });
    assert.equal(bridge.name, 'bridge');
    assert.equal(bridge.cniVersion, '1.0.0');
    assert.equal(bridge.prevResult, undefined);
    const portmap = pluginStdin(list, list.plugins[1], rc, prev);
    assert.deepEqual(portmap.runtimeConfig, { portMappings: rc.portMappings });
    assert.deepEqual(portmap.prevResult, prev);
    assert.equal(pluginStdin(list, list.plugins[2], rc, prev).runtimeConfig, undefined);
    assert.deepEqual(pluginStdin(list, list.plugins[3], rc, prev).runtimeConfig, { mac: '02:42:ac:11:00:05' });
    assert.equal(pluginStdin(list, list.plugins[1], {}, prev).runtimeConfig, undefined);
  });

  it('reads user conflists and single-plugin confs, refusing broken ones', () => {
    const single = conflistFromJson({ cniVersion: '0.4.0', name: 'mynet', type: 'bridge', bridge: 'br9' }, 'x.conf');
    assert.deepEqual(single, { cniVersion: '0.4.0', name: 'mynet', plugins: [{ type: 'bridge', bridge: 'br9' }] });
    const cases: [string, RegExp][] = [
      ['{', /not JSON/],
      ['[]', /not a JSON object/],
      ['{"cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}', /"name"/],
      ['{"name":"n","plugins":[{"type":"bridge"}]}', /cniVersion/],
      ['{"name":"n","cniVersion":"1.0.0","plugins":[]}', /empty/],
      ['{"name":"n","cniVersion":"1.0.0","plugins":[{"bridge":"x"}]}', /plugins\[0\] has no "type"/],
      ['{"name":"n","cniVersion":"1.0.0"}', /neither "plugins" nor "type"/],
    ];
    for (const [text, re] of cases) {
      assert.throws(
        () => parseConflist(text, '/etc/cni/net.d/x.conflist'),
        (e: unknown) =>
          isGantryError(e) && e.kind === 'InvalidArgument' && e.message.includes('/etc/cni/net.d/x.conflist') && re.test(e.message),
        text,
      );
    }
  });
  it('an attachment runs only the plugins with something to do: portmap with ports, tuning with a MAC, never firewall', () => {
    const list = bridgeConflist(spec);
    const types = (l: ReturnType<typeof bridgeConflist>) => l.plugins.map((p) => p.type);
    assert.deepEqual(types(attachmentConflist(list, {})), ['bridge']);
    assert.deepEqual(types(attachmentConflist(list, { ips: ['10.1.2.3'] })), ['bridge']);
    const mapping = { hostPort: 8080, containerPort: 80, protocol: 'tcp' as const, hostIP: '' };
    assert.deepEqual(types(attachmentConflist(list, { portMappings: [mapping] })), ['bridge', 'portmap']);
    assert.deepEqual(types(attachmentConflist(list, { mac: '02:42:ac:11:00:02' })), ['bridge', 'tuning']);
    // The entries that stay are the list's own, and the list keeps its name and version.
    const kept = attachmentConflist(list, { portMappings: [mapping], mac: '02:42:ac:11:00:02' });
    assert.deepEqual(kept, { ...list, plugins: list.plugins.filter((p) => p.type !== 'firewall') });
    // A tuning entry with a setting of its own (sysctl, mtu, ...) acts without a MAC: it stays.
    const tuned = {
      ...list,
      plugins: list.plugins.map((p) => (p.type === 'tuning' ? { ...p, sysctl: { 'net.core.somaxconn': '500' } } : p)),
    };
    assert.deepEqual(types(attachmentConflist(tuned, {})), ['bridge', 'tuning']);
    // So does a firewall entry with a setting of its own (an admin chain of another name).
    const admin = {
      ...list,
      plugins: list.plugins.map((p) => (p.type === 'firewall' ? { ...p, iptablesAdminChainName: 'MY-ADMIN' } : p)),
    };
    assert.deepEqual(types(attachmentConflist(admin, {})), ['bridge', 'firewall']);
  });

  it('an attachment of a list written before gantryd set up isolation and masquerade itself runs bridge without them, and no firewall', () => {
    const list = bridgeConflist(spec);
    const older = {
      ...list,
      plugins: list.plugins.map((p) =>
        p.type === 'firewall' ? { ...p, ingressPolicy: 'same-bridge' } : p.type === 'bridge' ? { ...p, ipMasq: true } : p,
      ),
    };
    const attached = attachmentConflist(older, {});
    assert.equal(
      attached.plugins.find((p) => p.type === 'firewall'),
      undefined,
    );
    // One with a setting of its own still runs, without the ingressPolicy gantryd enforces itself.
    const olderAdmin = {
      ...older,
      plugins: older.plugins.map((p) => (p.type === 'firewall' ? { ...p, iptablesAdminChainName: 'MY-ADMIN' } : p)),
    };
    assert.deepEqual(
      attachmentConflist(olderAdmin, {}).plugins.find((p) => p.type === 'firewall'),
      { type: 'firewall', backend: 'iptables', iptablesAdminChainName: 'MY-ADMIN' },
    );
    assert.deepEqual(
      attached.plugins.find((p) => p.type === 'bridge'),
      list.plugins[0],
    );
    // The stored list itself is left as it was.
    assert.equal(older.plugins.find((p) => p.type === 'firewall')?.ingressPolicy, 'same-bridge');
    assert.equal(older.plugins.find((p) => p.type === 'bridge')?.ipMasq, true);
  });
});
