// A host without what CNI networks need (docs/networking.md, "What a host
// needs"): connecting still works — `none` and `host` need none of it — but
// the connect warns, naming exactly what to install, through the API's
// deploy warnings and on the CLI's stderr. The plugin and iptables are hidden
// only in the test sshd's mount namespace (harness.ts hide), never here.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { RuntimeClient } from '../../../runtime/client/client';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import { background } from '../../../runtime/context';
import { requireBuild } from '../../helpers/daemon';
import { suiteCleanup } from '../../helpers/tmp';
import { startRemoteHost, type RemoteHost } from './harness';

describe('remote: a host without the CNI plugins or iptables', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let remote: RemoteHost;

  before(async () => {
    requireBuild();
    remote = await startRemoteHost({ cleanup });
    // iptables and iptables-save are links to one binary (alternatives): hiding it hides both.
    await remote.hide('/usr/lib/cni/portmap');
    await remote.hide(fs.realpathSync('/usr/sbin/iptables'));
    assert.ok(fs.statSync('/usr/lib/cni/portmap').size > 0, 'hidden only on the test host, not here');
  });

  after(async () => {
    await remote?.expectNoLeftovers();
  });

  const warning = () =>
    `${remote.target}: container networking needs CNI plugin portmap (in /usr/lib/cni, /opt/cni/bin), iptables, iptables-save: ` +
    'install with apt-get install containernetworking-plugins iptables; until then containers there can use only --network none or host';

  it('connects, starts gantryd and warns naming the Debian packages', async () => {
    const r = await connectRemote(background(), remote.target, remote.options);
    try {
      assert.equal(r.deploy.started, true);
      assert.deepEqual(r.facts.network?.missingPlugins, ['portmap']);
      assert.deepEqual(r.deploy.warnings, [warning()]);
      const client = new RuntimeClient(r.grpcTarget);
      try {
        assert.ok((await client.system.version({ timeoutMs: 20_000 })).version);
      } finally {
        client.close();
      }
    } finally {
      await r.close();
    }
  });

  it('the CLI prints the warning and carries on', async () => {
    const res = await remote.cli(['version']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stderr.split('\n').includes(`gantry: ${warning()}`), res.stderr);
    assert.match(res.stdout, /Server/);
  });
});
