// `gantry --host ssh://… port-forward`: a container on the daemon of the SSH
// test host (its default network, nothing published) answers a GET on a
// port of this machine. The PortForward calls travel on the CLI's SSH link
// like every other call: no `ssh -L`.
import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { background } from '../../../runtime/context';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import { GANTRY_JS, requireBuild } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { startProcess, type Proc } from '../../helpers/proc';
import { startRegistry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';
import { httpGet } from '../network/harness';
import { forwardedPorts, relayPids, webScript } from '../containers/portForwardHelpers';
import { forwardTo, startRemoteHost, type RemoteHost } from './harness';

describe('remote: port-forward over SSH', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let remote: RemoteHost;
  let image: string;
  let daemonPid: number;
  let proc: Proc | undefined;

  before(async () => {
    requireBuild();
    remote = await startRemoteHost({ cleanup });
    const registry = await startRegistry({ cleanup });
    await pushBusybox(registry, 'test/busybox:latest', { format: 'oci' });
    const registryHost = await forwardTo(registry.port, remote.host.localAddress, cleanup);
    image = `${registryHost}/test/busybox:latest`;
    const r = await connectRemote(background(), remote.target, { ...remote.options, daemonArgs: ['--insecure-registry', registryHost] });
    daemonPid = r.deploy.daemon.pid;
    await r.close();
  });

  afterEach(async () => {
    if (proc && !proc.exitStatus) await proc.stop();
    proc = undefined;
    await remote.expectNoLeftovers();
  });

  it("forwards a local port to a remote container's unpublished httpd; SIGINT ends it and leaves nothing", async () => {
    const pull = await remote.cli(['pull', '-q', image]);
    assert.equal(pull.code, 0, pull.stderr);
    const run = await remote.cli(['run', '-d', '--name', 'remote-web', image, 'sh', '-c', webScript('hello from the test host', '80')]);
    assert.equal(run.code, 0, run.stderr);

    proc = startProcess(process.execPath, [GANTRY_JS, '--host', remote.target, 'port-forward', 'remote-web', '0:80'], {
      env: remote.env,
      name: 'gantry port-forward over ssh',
    });
    const local = await proc.waitFor((p) => forwardedPorts(p.stdout).get(80), { what: 'the "Forwarding from" line' });
    const body = await waitFor(() => httpGet(`http://127.0.0.1:${local}/`).catch(() => undefined), {
      what: `GET http://127.0.0.1:${local}/ through the SSH host`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    assert.equal(body, 'hello from the test host\n');
    assert.equal(await httpGet(`http://127.0.0.1:${local}/`), 'hello from the test host\n', 'a second connection');

    proc.kill('SIGINT');
    assert.equal((await proc.waitForExit()).code, 0, proc.stderr);
    await assert.rejects(new Promise((resolve, reject) => net.connect(local, '127.0.0.1', resolve as () => void).once('error', reject)));
    await waitFor(() => relayPids(daemonPid).length === 0, {
      what: 'no relay left on the remote daemon (they end when idle)',
      timeoutMs: 30_000,
    });
    const rm = await remote.cli(['rm', '-f', 'remote-web']);
    assert.equal(rm.code, 0, rm.stderr);
  });
});
