// connectRemote against a real sshd on a netns test host: first connect
// uploads and starts gantryd, the next ones reuse it; a changed bundle is
// re-uploaded, a daemon of another version replaced, a killed one restarted;
// the proxy carries gRPC and leaves no ssh or remote dial-stdio behind.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { RuntimeClient } from '../../../runtime/client/client';
import { RUNTIME_FILES } from '../../../runtime/loader/bundles';
import { background } from '../../../runtime/context';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import type { RemoteRuntime } from '../../../runtime/client/ssh/remote';
import { remoteCommand } from '../../../runtime/client/ssh/ssh';
import { GANTRY_VERSION } from '../../../runtime/version';
import { requireBuild } from '../../helpers/daemon';
import { pidAlive, runCommand } from '../../helpers/proc';
import { suiteCleanup } from '../../helpers/tmp';
import { DIST, startRemoteHost, type RemoteHost } from './harness';
import { waitFor } from '../../helpers/waitFor';

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('remote: deploy and reuse gantryd over SSH', function () {
  this.timeout(180_000);
  const cleanup = suiteCleanup();
  let remote: RemoteHost;
  const open = new Set<RemoteRuntime>();

  before(async () => {
    requireBuild();
    remote = await startRemoteHost({ cleanup });
  });

  afterEach(async () => {
    for (const r of open) await r.close();
    open.clear();
    await remote.expectNoLeftovers();
  });

  async function connect(): Promise<RemoteRuntime> {
    const r = await connectRemote(background(), remote.target, remote.options);
    open.add(r);
    return r;
  }

  async function versionThrough(r: RemoteRuntime) {
    const client = new RuntimeClient(r.grpcTarget);
    try {
      return await client.system.version({ timeoutMs: 20_000 });
    } finally {
      client.close();
    }
  }

  it('uploads and starts gantryd on first connect, then reuses it without uploading', async () => {
    const progress: string[] = [];
    const first = await connectRemote(background(), remote.target, { ...remote.options, onProgress: (m) => progress.push(m) });
    open.add(first);
    const native = fs.readdirSync(path.join(DIST, 'native')).map((f) => `native/${f}`);
    assert.deepEqual(first.deploy.uploaded, [...RUNTIME_FILES, ...native]);
    assert.equal(first.deploy.started, true);
    assert.deepEqual(first.deploy.warnings, []);
    assert.ok(
      progress.some((m) => /^uploading gantry\.js/.test(m)),
      progress.join('\n'),
    );
    assert.ok(
      progress.some((m) => /^starting gantryd/.test(m)),
      progress.join('\n'),
    );

    // The files on the host are byte for byte the local bundle, in the versioned dir.
    const bin = path.join(remote.gantryHome, 'bin', GANTRY_VERSION);
    assert.equal(first.deploy.gantryJs, path.join(bin, 'gantry.js'));
    assert.equal(sha256(path.join(bin, 'gantry.js')), sha256(path.join(DIST, 'gantry.js')));
    for (const f of native) assert.equal(sha256(path.join(bin, f)), sha256(path.join(DIST, f)));
    assert.deepEqual(
      fs.readdirSync(bin).filter((f) => f.startsWith('.')),
      [],
      'no upload temp files left',
    );

    // The daemon runs in the test host's network namespace, with its root and state under GANTRY_HOME.
    const version = await versionThrough(first);
    assert.equal(version.pid, first.deploy.daemon.pid);
    assert.equal(version.version, GANTRY_VERSION);
    assert.equal(version.root, path.join(remote.gantryHome, 'root'));
    assert.equal(version.socket, path.join(remote.gantryHome, 'state', 'gantry.sock'));
    assert.equal(fs.readlinkSync(`/proc/${version.pid}/ns/net`), fs.readlinkSync(`/proc/${remote.sshd.proc.pid}/ns/net`));
    assert.deepEqual(remote.daemonPids(), [version.pid]);
    assert.match(fs.readFileSync(path.join(remote.gantryHome, 'gantryd.log'), 'utf8'), /gantryd serving/);
    // The proxy socket is ours alone.
    assert.equal(fs.statSync(first.socketPath).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(first.socketPath)).mode & 0o777, 0o700);

    await first.close();
    assert.equal(fs.existsSync(path.dirname(first.socketPath)), false, 'close() removes the proxy socket dir');
    await remote.expectNoLeftovers();

    const second = await connect();
    assert.deepEqual(second.deploy.uploaded, []);
    assert.equal(second.deploy.started, false);
    assert.equal(second.deploy.daemon.pid, version.pid);
    assert.equal((await versionThrough(second)).pid, version.pid);
    assert.deepEqual(remote.daemonPids(), [version.pid], 'never a second daemon');
  });

  it('carries each connection over its own ssh, and every one ends when its client hangs up', async () => {
    const r = await connect();
    // grpc-js shares one connection between channels to the same target, so add two raw ones.
    const raw = [net.connect(r.socketPath), net.connect(r.socketPath)];
    const client = new RuntimeClient(r.grpcTarget);
    try {
      assert.equal((await client.system.version({ timeoutMs: 20_000 })).pid, r.deploy.daemon.pid);
      await waitFor(() => remote.leftovers().filter((l) => l.startsWith('remote dial-stdio')).length >= 3, {
        what: 'three remote dial-stdio processes',
        timeoutMs: 10_000,
        describe: () => remote.leftovers(),
      });
      assert.equal(r.sshPids.length, 3);
      assert.equal(remote.leftovers().filter((l) => l.startsWith('remote dial-stdio')).length, 3, remote.leftovers().join('\n'));
    } finally {
      client.close();
      for (const s of raw) s.end();
    }
    // Without close(): ssh stdin EOF → the remote dial-stdio exits → ssh exits.
    await remote.expectNoLeftovers();
    // The local ssh exits after its remote side did: wait for that, not for a time.
    await waitFor(() => r.sshPids.length === 0, { what: 'the local ssh processes to exit', timeoutMs: 15_000, describe: () => r.sshPids });
    assert.equal(r.sshPids.length, 0);
    assert.equal(r.lastError(), undefined, 'sessions that end cleanly record no error');
  });

  it('uploads only the file whose checksum differs, and keeps the running daemon', async () => {
    const before = remote.daemonPids();
    const js = path.join(remote.gantryHome, 'bin', GANTRY_VERSION, 'gantry.js');
    fs.appendFileSync(js, '\n// stale build\n');
    const r = await connect();
    assert.deepEqual(r.deploy.uploaded, ['gantry.js']);
    assert.equal(r.deploy.started, false);
    assert.deepEqual(remote.daemonPids(), before);
    assert.equal(sha256(js), sha256(path.join(DIST, 'gantry.js')));
  });

  it('restarts a killed daemon on the next connect, and through ensureDaemon()', async () => {
    const [old] = remote.daemonPids();
    process.kill(old, 'SIGKILL');
    await waitFor(() => !pidAlive(old), { what: `pid ${old} gone` });

    const r = await connect();
    assert.equal(r.deploy.started, true);
    assert.notEqual(r.deploy.daemon.pid, old);
    assert.equal((await versionThrough(r)).pid, r.deploy.daemon.pid);

    // The daemon dies under a live RuntimeRemote: calls fail with the reason, ensureDaemon brings it back.
    process.kill(r.deploy.daemon.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(r.deploy.daemon.pid), { what: `pid ${r.deploy.daemon.pid} gone` });
    const client = new RuntimeClient(r.grpcTarget);
    try {
      await assert.rejects(client.system.version({ timeoutMs: 20_000 }), (e: unknown) => {
        const shown = r.translate(e) as Error;
        assert.equal(
          shown.message,
          `gantryd on ${remote.target} is not reachable: cannot connect to gantryd at ${path.join(remote.gantryHome, 'state', 'gantry.sock')} (connection refused)`,
        );
        return true;
      });
    } finally {
      client.close();
    }
    const again = await r.ensureDaemon(background());
    assert.equal(again.started, true);
    // A fresh client: grpc-js fails calls fast while its channel backs off from the failure above.
    assert.equal((await versionThrough(r)).pid, again.daemon.pid);
    assert.equal(r.lastError(), undefined);
  });

  it('replaces a daemon of another version with this one', async () => {
    await remote.removeDaemon();
    // An "older release": the tsc build of the same sources reports the version it is told.
    const mainJs = path.resolve(__dirname, '../../../runtime/daemon/entry.js');
    const state = path.join(remote.gantryHome, 'state');
    const start = 'log=$1; shift; GANTRY_BUILD_VERSION=0.0.1-old setsid "$@" </dev/null >>"$log" 2>&1 &';
    await runCommand('ssh', [
      '-F',
      remote.sshd.sshConfigPath,
      remote.sshd.alias,
      remoteCommand([
        '/bin/sh',
        '-c',
        start,
        'sh',
        path.join(remote.gantryHome, 'old.log'),
        process.execPath,
        mainJs,
        'daemon',
        '--root',
        path.join(remote.gantryHome, 'root'),
        '--state',
        state,
      ]),
    ]);
    const socket = path.join(state, 'gantry.sock');
    const oldPid = await waitFor(
      async () => {
        const c = RuntimeClient.forSocket(socket);
        try {
          return await c.system.version({ timeoutMs: 1000 }).then(
            (v) => (v.version === '0.0.1-old' ? v.pid : undefined),
            () => undefined,
          );
        } finally {
          c.close();
        }
      },
      { what: 'the old daemon to answer', timeoutMs: 20_000, intervalMs: 100 },
    );
    assert.ok(oldPid, 'the old daemon answers');

    const r = await connect();
    assert.deepEqual(r.deploy.replaced, { version: '0.0.1-old', pid: oldPid, socket });
    assert.equal(r.deploy.started, true);
    assert.equal(pidAlive(oldPid), false, 'the old daemon was stopped');
    const v = await versionThrough(r);
    assert.equal(v.version, GANTRY_VERSION);
    assert.deepEqual(remote.daemonPids(), [v.pid]);
  });

  it('two clients connecting at once to a host without a daemon end up sharing one', async () => {
    await remote.removeDaemon();
    fs.rmSync(path.join(remote.gantryHome, 'bin'), { recursive: true, force: true });
    const [a, b] = await Promise.all([connect(), connect()]);
    assert.equal(a.deploy.daemon.pid, b.deploy.daemon.pid);
    assert.deepEqual(remote.daemonPids(), [a.deploy.daemon.pid], 'never started twice');
    assert.equal((await versionThrough(b)).pid, a.deploy.daemon.pid);
    const bin = path.join(remote.gantryHome, 'bin', GANTRY_VERSION);
    assert.equal(sha256(path.join(bin, 'gantry.js')), sha256(path.join(DIST, 'gantry.js')));
    assert.deepEqual(
      fs.readdirSync(bin).filter((f) => f.startsWith('.')),
      [],
      'no upload temp files left',
    );
  });

  it('goes through a ProxyJump of the ssh config, and the jump’s own ssh ends too', async () => {
    // A second alias that reaches the same host through the first one.
    const text = fs.readFileSync(remote.sshd.sshConfigPath, 'utf8');
    const jumped = text.replace(`Host ${remote.sshd.alias}`, 'Host via-jump') + `  ProxyJump ${remote.sshd.alias}\n`;
    const config = path.join(remote.gantryHome, 'ssh_config_jump');
    fs.writeFileSync(config, `${jumped}\n${text}`);
    const r = await connectRemote(background(), 'ssh://via-jump', { ...remote.options, configFile: config });
    open.add(r);
    const client = new RuntimeClient(r.grpcTarget);
    let helpers: number[];
    try {
      assert.equal((await client.system.version({ timeoutMs: 20_000 })).pid, r.deploy.daemon.pid);
      // ssh runs the jump as a child process (ssh -W host:port).
      const [session] = r.sshPids;
      helpers = fs
        .readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .filter((pid) => {
          try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
            return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === session;
          } catch {
            return false;
          }
        });
      assert.equal(helpers.length, 1, 'one jump helper');
      assert.ok(fs.readFileSync(`/proc/${helpers[0]}/cmdline`, 'utf8').split('\0').includes('-W'));
    } finally {
      client.close();
    }
    await r.close();
    for (const pid of helpers) assert.equal(pidAlive(pid), false, `jump helper ${pid} is gone`);
  });
});
