import { strict as assert } from 'node:assert';
import { kindOf, parsePortForwardSpec } from '../../../../runtime/client';

describe('parsePortForwardSpec ([LOCAL:]REMOTE, as kubectl port-forward)', () => {
  it('reads REMOTE alone as the same local port, LOCAL:REMOTE, and 0 or an empty LOCAL as a free port', () => {
    assert.deepEqual(parsePortForwardSpec('80'), { local: undefined, remote: 80 });
    assert.deepEqual(parsePortForwardSpec('8080:80'), { local: 8080, remote: 80 });
    assert.deepEqual(parsePortForwardSpec('0:5432'), { local: 0, remote: 5432 });
    assert.deepEqual(parsePortForwardSpec(':5432'), { local: 0, remote: 5432 });
    assert.deepEqual(parsePortForwardSpec('65535:1'), { local: 65535, remote: 1 });
  });

  it('refuses anything else with InvalidArgument naming the spec', () => {
    for (const bad of ['', '0', '80:0', '70000', '80:70000', '70000:80', 'http', '1:2:3', '80/tcp', '-1:80', '127.0.0.1:80:80']) {
      assert.throws(
        () => parsePortForwardSpec(bad),
        (e: Error) => kindOf(e) === 'InvalidArgument' && e.message.includes(`invalid port "${bad}"`),
        bad,
      );
    }
  });
});
