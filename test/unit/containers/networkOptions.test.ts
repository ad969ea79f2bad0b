// The network part of a container's config at the API's door: the default
// network, the pure checks of -p/--expose/--add-host/--ip/--mac-address, the
// options refused with none/host, and the endpoints/ports of the summary.
import { strict as assert } from 'node:assert';
import type { ContainerConfig as WireConfig } from '../../../runtime/api/gen/gantry/v1/containers';
import { fromWireConfig, toWireConfig, toWireNetworking } from '../../../runtime/api/services/containerWire';
import { fullConfig } from '../../../runtime/client';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import type { Attachment } from '../../../runtime/network/index';

function wire(over: Partial<WireConfig> = {}): WireConfig {
  return fullConfig({ image: 'busybox', noNewPrivileges: undefined, ...over });
}

function refused(over: Partial<WireConfig>, message: RegExp): void {
  assert.throws(
    () => fromWireConfig(wire(over)),
    (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && message.test(e.message),
  );
}

describe('container network options', () => {
  it('defaults to the bridge network; none, host and a network name are kept', () => {
    assert.equal(fromWireConfig(wire()).network, 'bridge');
    for (const n of ['none', 'host', 'bridge', 'my-net_1.x']) assert.equal(fromWireConfig(wire({ network: n })).network, n);
  });

  it('keeps the options as given and returns them on the wire', () => {
    const c = fromWireConfig(
      wire({
        publish: ['8080:80', '127.0.0.1::53/udp'],
        publishAll: true,
        expose: ['9000-9001'],
        dns: ['1.1.1.1'],
        dnsSearch: ['example.org'],
        dnsOptions: ['ndots:2'],
        addHosts: ['db:10.0.0.9', 'gw:host-gateway'],
        macAddress: '02:42:AC:11:00:09',
        ip: '10.88.0.9',
        networkAliases: ['web'],
      }),
    );
    assert.deepEqual(c.publish, ['8080:80', '127.0.0.1::53/udp']);
    assert.equal(c.macAddress, '02:42:ac:11:00:09');
    const back = toWireConfig(c);
    assert.deepEqual(
      [back.publish, back.expose, back.addHosts, back.networkAliases, back.ip],
      [c.publish, c.expose, c.addHosts, ['web'], '10.88.0.9'],
    );
    assert.equal(fromWireConfig(wire()).publish, undefined, 'a config without them stays as records were');
  });

  it('refuses malformed specs, naming them', () => {
    refused({ publish: ['80:abc'] }, /80:abc/);
    refused({ publish: ['8000-8002:80-81'] }, /differ in length/);
    refused({ expose: ['8080:80'] }, /--expose/);
    refused({ addHosts: ['nohost'] }, /--add-host/);
    refused({ ip: 'ten' }, /--ip/);
    refused({ macAddress: '02:42' }, /--mac-address/);
    refused({ network: 'bad name' }, /not supported/);
  });

  it('refuses publishing, --ip, --mac-address and aliases with none and host', () => {
    for (const network of ['none', 'host']) {
      refused({ network, publish: ['80'] }, /conflicting options: --publish/);
      refused({ network, publishAll: true }, /--publish-all/);
      refused({ network, ip: '10.0.0.2' }, /--ip/);
      refused({ network, networkAliases: ['a'] }, /--network-alias/);
    }
  });

  it('shows an attachment as endpoints and ports', () => {
    const a = {
      containerId: 'c',
      netns: '/run/gantry/netns/c',
      networks: [
        {
          network: 'bridge',
          networkId: 'n1',
          interface: 'eth0',
          mac: '02:00:00:00:00:01',
          addresses: ['10.88.0.5/16'],
          gateway: '10.88.0.1',
          aliases: [],
          result: { cniVersion: '1.0.0' },
        },
      ],
      ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    } as unknown as Attachment;
    assert.deepEqual(toWireNetworking(a), {
      networks: [
        {
          network: 'bridge',
          networkId: 'n1',
          interface: 'eth0',
          ipAddress: '10.88.0.5',
          ipPrefixLen: 16,
          gateway: '10.88.0.1',
          macAddress: '02:00:00:00:00:01',
          aliases: [],
        },
      ],
      ports: [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    });
    assert.deepEqual(toWireNetworking(undefined), { networks: [], ports: [] });
  });
});

describe('container network options: container:NAME and network connect', () => {
  it('keeps container:NAME; refuses an empty one and every option the joined namespace decides, in Docker words', () => {
    assert.equal(fromWireConfig(wire({ network: 'container:web' })).network, 'container:web');
    refused({ network: 'container:' }, /not supported/);
    const join = { network: 'container:web' };
    refused({ ...join, publish: ['80'] }, /^conflicting options: port publishing and the container type network mode$/);
    refused({ ...join, publishAll: true }, /port publishing/);
    refused({ ...join, expose: ['80'] }, /^conflicting options: port exposing and the container type network mode$/);
    refused({ ...join, hostname: 'h' }, /^conflicting options: hostname and the network mode$/);
    refused({ ...join, dns: ['1.1.1.1'] }, /^conflicting options: dns and the network mode$/);
    refused({ ...join, dnsSearch: ['x'] }, /dns and the network mode/);
    refused({ ...join, addHosts: ['a:1.2.3.4'] }, /^conflicting options: custom host-to-IP mapping and the network mode$/);
    refused({ ...join, macAddress: '02:42:ac:11:00:02' }, /^conflicting options: mac-address and the network mode$/);
    refused({ ...join, ip: '10.0.0.2' }, /^user specified IP address is supported on user defined networks only$/);
    refused({ ...join, networkAliases: ['x'] }, /^network-scoped alias is supported only for containers in user defined networks$/);
  });

  it('round-trips connected networks and a disconnected primary', () => {
    const c = fromWireConfig(
      wire({
        connectedNetworks: [
          { network: 'second', aliases: ['db'], ip: '10.1.0.5' },
          { network: 'third', aliases: [], ip: '' },
        ],
        primaryDisconnected: true,
      }),
    );
    assert.deepEqual(c.connectedNetworks, [{ network: 'second', aliases: ['db'], ip: '10.1.0.5' }, { network: 'third' }]);
    assert.equal(c.primaryDisconnected, true);
    const back = toWireConfig(c);
    assert.deepEqual(back.connectedNetworks, [
      { network: 'second', aliases: ['db'], ip: '10.1.0.5' },
      { network: 'third', aliases: [], ip: '' },
    ]);
    assert.equal(back.primaryDisconnected, true);
    assert.equal(fromWireConfig(wire()).connectedNetworks, undefined, 'records stay as before without connections');
  });
});
