import { strict as assert } from 'node:assert';
import { isInitialUserns, rootlessFromEnv, rootlessNetworkUnavailable } from '../../../runtime/daemon/rootless/rootless';
import { rootlesskitArgs } from '../../../runtime/daemon/rootless/holder';

const NESTED = '         0       1001          1\n         1     165536      65536\n';
const INITIAL = '         0          0 4294967295\n';

describe('daemon/rootless', () => {
  it('rootlessFromEnv: only with our marker, RootlessKit state dir and a user namespace that is not the initial one', () => {
    const env = { GANTRY_ROOTLESS: '1', ROOTLESSKIT_STATE_DIR: '/run/user/1001/gantry/rootlesskit', GANTRY_ROOTLESS_NET: 'host' };
    assert.deepEqual(rootlessFromEnv(env, NESTED), { rootlesskitState: '/run/user/1001/gantry/rootlesskit', net: 'host' });
    assert.equal(rootlessFromEnv({ ...env, GANTRY_ROOTLESS_NET: 'slirp4netns' }, NESTED)?.net, 'slirp4netns');
    assert.equal(rootlessFromEnv(env, INITIAL), undefined, 'root in the initial namespace with the variables set is rootful');
    assert.equal(rootlessFromEnv({ ...env, GANTRY_ROOTLESS: '' }, NESTED), undefined);
    assert.equal(rootlessFromEnv({ GANTRY_ROOTLESS: '1' }, NESTED), undefined);
  });

  it('isInitialUserns', () => {
    assert.equal(isInitialUserns(INITIAL), true);
    assert.equal(isInitialUserns(NESTED), false);
  });

  it('rootlesskitArgs: state dir under ours, copy-up /etc and /run; the port driver only with slirp4netns', () => {
    const host = rootlesskitArgs('/run/user/1001/gantry', 'host', ['node', 'gantry.js', 'daemon']);
    assert.deepEqual(host, [
      '--state-dir=/run/user/1001/gantry/rootlesskit',
      '--net=host',
      '--copy-up=/etc',
      '--copy-up=/run',
      '--',
      'node',
      'gantry.js',
      'daemon',
    ]);
    const slirp = rootlesskitArgs('/s', 'slirp4netns', ['x']);
    assert.ok(slirp.includes('--net=slirp4netns'));
    assert.ok(slirp.includes('--port-driver=builtin'));
    assert.ok(slirp.indexOf('--') < slirp.indexOf('x'));
  });

  it('says why bridge networking is off, with the fix for /dev/net/tun', () => {
    assert.match(rootlessNetworkUnavailable({ rootlesskitState: '/s', net: 'host' }), /chmod 0666 \/dev\/net\/tun/);
  });
});
