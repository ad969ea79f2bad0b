// `gantry --host ssh://…` and GANTRY_HOST: every command through the SSH
// proxy to a gantryd on a netns test host — version, pull from the test
// registry, run, logs, exec — then the link cut under a streaming `logs -f`
// and a killed remote daemon.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { background } from '../../../runtime/context';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import { GANTRY_JS, requireBuild } from '../../helpers/daemon';
import { startFaultProxy, type FaultProxy } from '../../helpers/faultProxy';
import { pushBusybox } from '../../helpers/fixtures';
import { pidAlive, startProcess } from '../../helpers/proc';
import { startRegistry } from '../../helpers/registry';
import { suiteCleanup } from '../../helpers/tmp';
import { forwardTo, startRemoteHost, type RemoteHost } from './harness';
import { waitFor } from '../../helpers/waitFor';

describe('remote: the CLI over SSH (gantry --host ssh://…)', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let remote: RemoteHost;
  let image: string;
  let stalledImage: string;
  let proxy: FaultProxy;
  let daemonPid: number;

  before(async () => {
    requireBuild();
    remote = await startRemoteHost({ cleanup });
    const registry = await startRegistry({ cleanup });
    await pushBusybox(registry, 'test/busybox:latest', { format: 'oci' });
    await pushBusybox(registry, 'test/stalled:latest', { format: 'oci', image: { marker: 'stalled' } });
    // The test host reaches the registry through a fault proxy, so a pull can be held mid-blob.
    proxy = await startFaultProxy(registry.port);
    cleanup.defer(() => proxy.close());
    const registryHost = await forwardTo(Number(proxy.host.split(':')[1]), remote.host.localAddress, cleanup);
    stalledImage = `${registryHost}/test/stalled:latest`;
    image = `${registryHost}/test/busybox:latest`;
    // Deployed once with the flag for the forwarded registry (not loopback, so plain HTTP must be allowed);
    // every CLI call below reuses this daemon.
    const r = await connectRemote(background(), remote.target, { ...remote.options, daemonArgs: ['--insecure-registry', registryHost] });
    daemonPid = r.deploy.daemon.pid;
    await r.close();
  });

  afterEach(async () => {
    await remote.expectNoLeftovers();
  });

  it('version: the remote daemon answers, by --host and by GANTRY_HOST', async () => {
    const res = await remote.cli(['version', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const server = (JSON.parse(res.stdout) as { server: { pid: number; root: string } }).server;
    assert.equal(server.pid, daemonPid);
    assert.equal(server.root, path.join(remote.gantryHome, 'root'));
    assert.equal(res.stderr, '', 'a reused daemon: nothing uploaded, nothing said');

    const byEnv = startProcess(process.execPath, [GANTRY_JS, 'version', '--json'], { env: { ...remote.env, GANTRY_HOST: remote.target } });
    assert.equal((await byEnv.waitForExit()).code, 0, byEnv.stderr);
    assert.equal((JSON.parse(byEnv.stdout) as { server: { pid: number } }).server.pid, daemonPid);

    const both = await remote.cli(['--socket', '/nonexistent.sock', 'version']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /use either --socket or --host, not both/);
    const bad = await remote.cli(['version'], { env: { ...remote.env, GANTRY_HOST: 'tcp://x:1' } });
    assert.equal(bad.code, 0, 'an explicit --host beats GANTRY_HOST');
  });

  it('pull, run --rm, run -d, logs and exec all work over SSH', async () => {
    const pull = await remote.cli(['pull', '-q', image]);
    assert.equal(pull.code, 0, pull.stderr);
    const images = await remote.cli(['images']);
    assert.equal(images.code, 0, images.stderr);
    assert.match(images.stdout, /test\/busybox\s+latest/);

    const hi = await remote.cli(['run', '--rm', image, 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    const three = await remote.cli(['run', '--rm', image, 'sh', '-c', 'echo to-stderr >&2; exit 3']);
    assert.equal(three.code, 3);
    assert.equal(three.stderr, 'to-stderr\n');

    const started = await remote.cli(['run', '-d', '--name', 'svc', image, 'sh', '-c', 'echo one; echo two >&2; exec sleep 1000']);
    assert.equal(started.code, 0, started.stderr);
    let logs = await remote.cli(['logs', 'svc']);
    await waitFor(
      async () => {
        if (!(logs.stdout.includes('one') && logs.stderr.includes('two'))) logs = await remote.cli(['logs', 'svc']);
        return logs.stdout.includes('one') && logs.stderr.includes('two');
      },
      { what: 'both lines in the logs of svc', timeoutMs: 10_000, intervalMs: 100, describe: () => logs },
    ).catch(() => undefined);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'one\n');
    assert.equal(logs.stderr, 'two\n');

    const exec = await remote.cli(['exec', 'svc', 'sh', '-c', 'echo from-exec; cat /etc/gantry-fixture; exit 4']);
    assert.equal(exec.code, 4, exec.stderr);
    assert.equal(exec.stdout, 'from-exec\nbusybox-amd64\n');
    const input = await remote.cli(['exec', '-i', 'svc', 'tr', 'a-z', 'A-Z'], { input: 'piped through ssh\n' });
    assert.equal(input.code, 0, input.stderr);
    assert.equal(input.stdout, 'PIPED THROUGH SSH\n');

    const rm = await remote.cli(['rm', '-f', 'svc']);
    assert.equal(rm.code, 0, rm.stderr);
  });

  it('the link cut under `logs -f`: reported once ssh keepalives time out, and it works again when the link returns', async () => {
    const started = await remote.cli(['run', '-d', '--name', 'ticker', image, 'sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    assert.equal(started.code, 0, started.stderr);
    const follow = startProcess(process.execPath, [GANTRY_JS, '--host', remote.target, 'logs', '-f', 'ticker'], {
      env: remote.env,
      name: 'gantry logs -f over ssh',
    });
    try {
      await follow.waitFor((p) => p.stdout.includes('tick'), { what: 'the first tick', timeout: 30_000 });
      await remote.host.down();
      // ssh's keepalives (1 s × 3 here) end the session; the CLI must not hang. The bound is the test's timeout.
      const status = await follow.waitForExit();
      assert.equal(status.code, 1);
      assert.match(
        follow.stderr,
        /^gantry: ssh: lost the link to ssh:\/\/gantry-test-22: the server did not answer ssh keepalives for 3 s\n$/m,
      );
    } finally {
      await remote.host.up();
      await follow.stop();
    }
    // The link is back: a new connection works, and the container kept running meanwhile.
    const again = await remote.cli(['logs', '--tail', '1', 'ticker']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'tick\n');
    // The host's half of the cut session ends once the link is back (sshd gets the FIN it missed).
    await remote.expectNoLeftovers(90_000);
    const rm = await remote.cli(['rm', '-f', 'ticker']);
    assert.equal(rm.code, 0, rm.stderr);
  });

  it('the link cut under a streaming pull: reported once ssh keepalives time out, and the pull works when the link returns', async () => {
    const stalled = proxy.pauseBlobAfter(0);
    const pull = startProcess(process.execPath, [GANTRY_JS, '--host', remote.target, 'pull', stalledImage], {
      env: remote.env,
      name: 'gantry pull over ssh',
    });
    try {
      await stalled; // the remote daemon is downloading: the progress stream is open
      await remote.host.down();
      const status = await pull.waitForExit();
      assert.equal(status.code, 1);
      assert.match(pull.stderr, /gantry: ssh: lost the link to ssh:\/\/gantry-test-22: the server did not answer ssh keepalives for 3 s\n/);
    } finally {
      await remote.host.up();
      proxy.release();
      await pull.stop();
    }
    const again = await remote.cli(['pull', '-q', stalledImage]);
    assert.equal(again.code, 0, again.stderr);
    const images = await remote.cli(['images', '--json']);
    assert.match(images.stdout, /test\/stalled/);
    await remote.expectNoLeftovers(90_000);
  });

  it('a killed remote daemon is restarted by the next command', async () => {
    const [pid] = remote.daemonPids();
    assert.equal(pid, daemonPid);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !pidAlive(pid), { what: `pid ${pid} gone` });
    const res = await remote.cli(['version', '--json']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /^gantry: starting gantryd/);
    const server = (JSON.parse(res.stdout) as { server: { pid: number } }).server;
    assert.notEqual(server.pid, pid);
    assert.deepEqual(remote.daemonPids(), [server.pid]);
  });
});
