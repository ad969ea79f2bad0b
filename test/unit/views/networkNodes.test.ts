// The Networks view's arrangement and texts, and the port children of the Containers view, from list records alone.
import * as assert from 'node:assert/strict';
import { ContainerStatus as S } from '../../../runtime/api/gen/gantry/v1/containers';
import type { NetworkInfo } from '../../../runtime/api/gen/gantry/v1/networks';
import { portNodes } from '../../../src/views/containers/containerNodes';
import {
  arrangeNetworks,
  isNetworkNode,
  networkContextValue,
  networkDescription,
  networkDetails,
} from '../../../src/views/networks/networkNodes';
import { networkNameProblem } from '../../../runtime/options';
import { containerSummary } from '../../helpers/containerSummary';

function network(name: string, fields: Partial<NetworkInfo> = {}): NetworkInfo {
  return {
    id: `${name}-id`.padEnd(64, '0'),
    name,
    driver: 'bridge',
    bridge: `gt-${name}`,
    subnet: '10.1.0.0/24',
    gateway: '10.1.0.1',
    internal: false,
    labels: {},
    options: {},
    createdAt: undefined,
    builtin: false,
    readOnly: false,
    containers: [],
    ...fields,
  };
}

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

describe('Networks view nodes', () => {
  it('puts the default network first, then the others by name', () => {
    const nodes = arrangeNetworks([network('zeta'), network('bridge', { builtin: true }), network('alpha')], []);
    assert.deepEqual(
      nodes.map((n) => n.network.name),
      ['bridge', 'alpha', 'zeta'],
    );
    assert.ok(nodes.every(isNetworkNode));
  });

  it('names each attached container and gives its address on that network; an unknown one by its short ID', () => {
    const web = containerSummary({
      id: ID_A,
      name: 'web',
      status: S.CONTAINER_STATUS_RUNNING,
      networks: [
        {
          network: 'other',
          networkId: 'x',
          interface: 'eth0',
          ipAddress: '10.9.0.2',
          ipPrefixLen: 24,
          gateway: '',
          macAddress: '',
          aliases: [],
        },
        {
          network: 'front',
          networkId: 'f',
          interface: 'eth1',
          ipAddress: '10.1.0.5',
          ipPrefixLen: 24,
          gateway: '',
          macAddress: '',
          aliases: [],
        },
      ],
    });
    const [node] = arrangeNetworks([network('front', { id: 'f', containers: [ID_B, ID_A] })], [web]);
    assert.deepEqual(
      node.members.map((m) => [m.name, m.address]),
      [
        [ID_B.slice(0, 12), ''],
        ['web', '10.1.0.5/24'],
      ],
    );
  });

  it('describes subnet, internal and the number of containers; the tooltip rows carry gateway, labels and options', () => {
    assert.equal(networkDescription(network('a')), '10.1.0.0/24 · no containers');
    assert.equal(networkDescription(network('a', { internal: true, containers: [ID_A] })), '10.1.0.0/24 · internal · 1 container');
    assert.equal(networkDescription(network('a', { containers: [ID_A, ID_B] })), '10.1.0.0/24 · 2 containers');
    const rows = networkDetails(network('a', { labels: { team: 'web' }, options: { mtu: '1400' }, internal: true }));
    assert.deepEqual(
      rows.find(([k]) => k === 'Gateway'),
      ['Gateway', '10.1.0.1'],
    );
    assert.deepEqual(
      rows.find(([k]) => k === 'Label'),
      ['Label', 'team=web'],
    );
    assert.deepEqual(
      rows.find(([k]) => k === 'Option'),
      ['Option', 'mtu=1400'],
    );
    assert.match(rows.find(([k]) => k === 'Internal')![1], /^yes/);
  });

  it('menus tell the default and read-only networks (not removable) from user networks', () => {
    assert.equal(networkContextValue(network('bridge', { builtin: true })), 'builtinNetwork');
    assert.equal(networkContextValue(network('cni', { readOnly: true })), 'readOnlyNetwork');
    assert.equal(networkContextValue(network('mine')), 'network');
  });

  it('checks a new network name by the rule the daemon applies', () => {
    assert.equal(networkNameProblem('my-net.1_a'), undefined);
    for (const bad of ['', 'host', 'none', 'default', '-x', 'a b', 'x'.repeat(65)]) assert.ok(networkNameProblem(bad), bad);
  });
});

describe('Containers view port children', () => {
  const ports = [
    { hostIp: '', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
  ];

  it('a running container shows its published ports by container port', () => {
    const nodes = portNodes(containerSummary({ id: ID_A, name: 'web', status: S.CONTAINER_STATUS_RUNNING, ports }));
    assert.deepEqual(
      nodes.map((n) => [n.containerName, n.binding.containerPort, n.binding.hostPort]),
      [
        ['web', 53, 5353],
        ['web', 443, 8443],
      ],
    );
  });

  it('a container that is not running has none', () => {
    assert.deepEqual(portNodes(containerSummary({ id: ID_A, name: 'web', status: S.CONTAINER_STATUS_EXITED, ports })), []);
  });
});
