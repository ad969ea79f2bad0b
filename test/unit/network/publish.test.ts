import * as assert from 'node:assert/strict';
import { isGantryError } from '../../../runtime/errdefs/errdefs';
import { formatMapping, parseExposed, parsePublish, publishAll } from '../../../runtime/network/ports/publish';

const spec = (hostIp: string, hostPort: number, hostPortEnd: number, containerPort: number, protocol: 'tcp' | 'udp' = 'tcp') => ({
  hostIp,
  hostPort,
  hostPortEnd,
  containerPort,
  protocol,
});

describe('network/ports/publish', () => {
  it('reads every form of -p', () => {
    assert.deepEqual(parsePublish('80'), [spec('', 0, 0, 80)]);
    assert.deepEqual(parsePublish('8080:80'), [spec('', 8080, 8080, 80)]);
    assert.deepEqual(parsePublish('127.0.0.1:8080:80/udp'), [spec('127.0.0.1', 8080, 8080, 80, 'udp')]);
    assert.deepEqual(parsePublish('127.0.0.1::80'), [spec('127.0.0.1', 0, 0, 80)]);
    assert.deepEqual(parsePublish('0.0.0.0:8080:80'), [spec('', 8080, 8080, 80)]);
    assert.deepEqual(parsePublish('[::1]:8080:80/TCP'), [spec('::1', 8080, 8080, 80)]);
    assert.deepEqual(parsePublish('8000-8001:80-81'), [spec('', 8000, 8000, 80), spec('', 8001, 8001, 81)]);
    assert.deepEqual(parsePublish('8000-8010:80'), [spec('', 8000, 8010, 80)]);
    assert.deepEqual(parsePublish('80-81/udp'), [spec('', 0, 0, 80, 'udp'), spec('', 0, 0, 81, 'udp')]);
  });

  it('refuses malformed specifications with a message naming them', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['abc', /container port "abc" is not a number/],
      ['0', /outside 1-65535/],
      ['70000', /outside 1-65535/],
      ['8080:', /no container port/],
      ['80/sctp', /protocol "sctp" is not tcp or udp/],
      ['90-80', /ends before it starts/],
      ['8000-8002:80-81', /differ in length/],
      ['::1:8080:80', /too many ":"/],
      ['300.1.1.1:8080:80', /is not an IP address/],
      ['[::1]8080:80', /must be followed by ":"/],
      ['[nope]:8080:80', /not an IPv6 address/],
    ];
    for (const [text, re] of cases) {
      assert.throws(
        () => parsePublish(text),
        (e: unknown) => isGantryError(e) && e.kind === 'InvalidArgument' && re.test(e.message),
        text,
      );
    }
  });

  it('-P publishes each exposed port once to a free host port', () => {
    assert.deepEqual(publishAll(['80/tcp', '53/udp', '80/tcp', '8080']), [
      spec('', 0, 0, 80),
      spec('', 0, 0, 53, 'udp'),
      spec('', 0, 0, 8080),
    ]);
    assert.deepEqual(parseExposed('53/udp'), { port: 53, protocol: 'udp' });
    assert.throws(() => parseExposed('x/tcp'), /not a number/);
  });

  it('formats mappings as docker ps does', () => {
    assert.equal(formatMapping({ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }), '0.0.0.0:8080->80/tcp');
    assert.equal(formatMapping({ hostIp: '::1', hostPort: 53, containerPort: 53, protocol: 'udp' }), '[::1]:53->53/udp');
  });
});
