import * as assert from 'node:assert/strict';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import {
  chooseSubnet,
  contains,
  formatCidr,
  overlaps,
  parseCidr,
  parseIPv4,
  parseIpRouteJson,
  parseProcNetRoute,
} from '../../../runtime/network/subnets';

describe('network/subnets', () => {
  it('parses and formats CIDRs, refusing host bits only when strict', () => {
    assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16');
    assert.equal(formatCidr(parseCidr('0.0.0.0/0')), '0.0.0.0/0');
    assert.throws(() => parseCidr('10.1.2.3/16', true), /host bits set \(did you mean 10.1.0.0\/16\?\)/);
    for (const bad of ['10.1.2/16', '10.1.2.3', '10.1.2.3/33', '256.1.1.1/8', 'fd00::/64']) {
      assert.throws(
        () => parseCidr(bad),
        (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument',
        bad,
      );
    }
    assert.equal(parseIPv4('1.2.3.256'), undefined);
  });

  it('tells overlapping subnets apart', () => {
    const c = (s: string) => parseCidr(s);
    assert.ok(overlaps(c('10.0.0.0/8'), c('10.200.0.0/24')));
    assert.ok(overlaps(c('10.200.0.0/24'), c('10.0.0.0/8')));
    assert.ok(overlaps(c('172.17.0.0/16'), c('172.17.255.0/24')));
    assert.ok(!overlaps(c('172.17.0.0/16'), c('172.18.0.0/16')));
    assert.ok(!overlaps(c('192.168.0.0/20'), c('192.168.16.0/20')));
    assert.ok(contains(c('192.168.16.0/20'), parseIPv4('192.168.31.255')!));
    assert.ok(!contains(c('192.168.16.0/20'), parseIPv4('192.168.32.0')!));
  });

  it('chooses the first subnet that overlaps no route and no other network', () => {
    const taken = ['172.17.0.0/16', '172.18.5.0/24', '0.0.0.0/32', '10.0.0.0/8'].map((s) => parseCidr(s));
    assert.equal(formatCidr(chooseSubnet(taken)), '172.19.0.0/16');
    // A route covering all of 172.16/12 moves the choice to 192.168.0.0/20s.
    assert.equal(formatCidr(chooseSubnet([parseCidr('172.16.0.0/12'), parseCidr('192.168.0.0/24')])), '192.168.16.0/20');
    const pools = [{ cidr: '10.99.0.0/22', size: 24 }];
    assert.equal(formatCidr(chooseSubnet([], pools, 2)), '10.99.2.0/24');
    assert.equal(formatCidr(chooseSubnet([parseCidr('10.99.2.0/23')], pools, 2)), '10.99.0.0/24', 'wraps around');
    assert.throws(
      () => chooseSubnet([parseCidr('10.99.0.0/22')], pools),
      (e: unknown) => isGantryError(e) && e.kind === 'ResourceExhausted',
    );
  });

  it('reads the host routes from ip -j route and /proc/net/route', () => {
    const json = JSON.stringify([
      { dst: 'default', gateway: '192.0.2.1', dev: 'eth0' },
      { dst: '192.0.2.0/24', dev: 'eth0' },
      { type: 'local', dst: '127.0.0.0/8', dev: 'lo' },
      { type: 'local', dst: '192.0.2.2', dev: 'eth0' },
    ]);
    assert.deepEqual(parseIpRouteJson(json).map(formatCidr), ['192.0.2.0/24', '127.0.0.0/8', '192.0.2.2/32']);
    const proc = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'br0\t0000FA0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    ].join('\n');
    assert.deepEqual(parseProcNetRoute(proc).map(formatCidr), ['192.0.2.0/24', '10.250.0.0/16']);
  });
});
