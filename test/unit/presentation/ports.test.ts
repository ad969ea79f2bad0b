import { strict as assert } from 'node:assert';
import type { PortBinding } from '../../../runtime/api/gen/gantry/v1/containers';
import { containerPortName, hostAddress, portLines, portsText } from '../../../runtime/presentation';
import { parsePrivatePort } from '../../../runtime/cli/commands/port';
import { networkRow, parseNetworkOptions } from '../../../runtime/cli/commands/networks';

const b = (hostPort: number, containerPort: number, protocol = 'tcp', hostIp = ''): PortBinding => ({
  hostIp,
  hostPort,
  containerPort,
  protocol,
});

describe('port text (Docker format)', () => {
  it('shows the host side with 0.0.0.0 for every address and brackets for IPv6', () => {
    assert.equal(hostAddress(b(8080, 80)), '0.0.0.0:8080');
    assert.equal(hostAddress(b(8080, 80, 'tcp', '127.0.0.1')), '127.0.0.1:8080');
    assert.equal(hostAddress(b(8080, 80, 'tcp', '::1')), '[::1]:8080');
    assert.equal(containerPortName(b(53, 53, 'udp')), '53/udp');
    assert.equal(containerPortName({ containerPort: 80, protocol: '' }), '80/tcp');
  });

  it('ps: one entry per binding, consecutive ports folded into ranges, sorted', () => {
    assert.equal(portsText([]), '');
    assert.equal(portsText([b(8080, 80)]), '0.0.0.0:8080->80/tcp');
    assert.equal(portsText([b(5353, 53, 'udp', '127.0.0.1'), b(8080, 80)]), '127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp');
    assert.equal(portsText([b(8001, 81), b(8000, 80), b(8002, 82)]), '0.0.0.0:8000-8002->80-82/tcp');
    assert.equal(
      portsText([b(8000, 80), b(9000, 81)]),
      '0.0.0.0:8000->80/tcp, 0.0.0.0:9000->81/tcp',
      'not consecutive on the host: no range',
    );
    assert.equal(portsText([b(8000, 80), b(8001, 81, 'udp')]), '0.0.0.0:8000->80/tcp, 0.0.0.0:8001->81/udp');
  });

  it('port: "PRIVATE/PROTO -> HOST:PORT" lines by container port', () => {
    assert.deepEqual(portLines([b(8443, 443), b(8080, 80), b(8080, 80, 'tcp', '::')]), [
      '80/tcp -> 0.0.0.0:8080',
      '80/tcp -> [::]:8080',
      '443/tcp -> 0.0.0.0:8443',
    ]);
  });

  it('port PRIVATE_PORT[/PROTO] and network create -o are read strictly', () => {
    assert.deepEqual(parsePrivatePort('80'), { port: 80, protocol: 'tcp' });
    assert.deepEqual(parsePrivatePort('53/UDP'), { port: 53, protocol: 'udp' });
    assert.throws(() => parsePrivatePort('80/sctp'));
    assert.throws(() => parsePrivatePort('0'));
    assert.deepEqual(parseNetworkOptions(['mtu=1400', 'bridge.name=br-x']), { mtu: '1400', 'bridge.name': 'br-x' });
    assert.throws(() => parseNetworkOptions(['mtu']));
    const info = { id: 'a'.repeat(64), name: 'n', driver: 'bridge', subnet: '10.1.0.0/24' } as Parameters<typeof networkRow>[0];
    assert.deepEqual(networkRow(info, false), ['aaaaaaaaaaaa', 'n', 'bridge', '10.1.0.0/24']);
  });
});
