// Hosts Gantry must refuse or cannot use, each with an error that says what
// to do and nothing left behind: no ssh process, no proxy socket, nothing
// written on the host. Real sshd, real ssh client, real known_hosts and keys.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { background } from '../../../runtime/context';
import { isGantryError, type ErrorKind } from '../../../runtime/errdefs/errdefs';
import { connectRemote } from '../../../runtime/client/ssh/connect';
import { requireBuild } from '../../helpers/daemon';
import { runCommand } from '../../helpers/proc';
import { createTestHost, type TestHost } from '../../helpers/sshd';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { startRemoteHost, type RemoteHost } from './harness';

describe('remote: hosts that cannot be used', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let host: TestHost;
  let remote: RemoteHost;
  let dir: string;

  before(async () => {
    requireBuild();
    host = await createTestHost({ cleanup });
    remote = await startRemoteHost({ cleanup, host });
    dir = await makeTempDir('grf', cleanup);
  });

  const proxyDirs = () => new Set(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('gantry-ssh-')));
  let proxyDirsBefore: Set<string>;
  beforeEach(() => {
    proxyDirsBefore = proxyDirs();
  });

  afterEach(async () => {
    await remote.expectNoLeftovers();
    // Nothing was uploaded or started.
    assert.equal(fs.existsSync(path.join(remote.gantryHome, 'bin')), false, 'nothing written on the host');
    assert.deepEqual(remote.daemonPids(), []);
    assert.deepEqual(
      [...proxyDirs()].filter((d) => !proxyDirsBefore.has(d)),
      [],
      'no proxy socket dir left',
    );
  });

  /** The test host's ssh config with one line replaced. */
  function configWith(name: string, from: RegExp, to: string): string {
    const file = path.join(dir, name);
    const text = fs.readFileSync(remote.sshd.sshConfigPath, 'utf8');
    assert.match(text, from);
    fs.writeFileSync(file, text.replace(from, to));
    return file;
  }

  async function expectRefusal(configFile: string, kind: ErrorKind, message: RegExp, target = remote.target): Promise<void> {
    await assert.rejects(connectRemote(background(), target, { ...remote.options, configFile }), (e: unknown) => {
      assert.ok(isGantryError(e), String(e));
      assert.equal(e.kind, kind, e.message);
      assert.match(e.message, message);
      return true;
    });
  }

  it('a host whose key differs from known_hosts: says it CHANGED and refuses', async () => {
    await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'impostor')]);
    const impostor = fs.readFileSync(path.join(dir, 'impostor.pub'), 'utf8').trim();
    const knownHosts = path.join(dir, 'known_hosts_changed');
    fs.writeFileSync(knownHosts, `${host.address} ${impostor}\n`);
    const config = configWith('config-changed', /UserKnownHostsFile .*/, `UserKnownHostsFile ${knownHosts}`);
    await expectRefusal(config, 'PermissionDenied', /host key of gantry-test-22 has CHANGED .* Gantry will not connect/s);
    await expectRefusal(config, 'PermissionDenied', new RegExp(`ssh-keygen -f "${knownHosts}" -R "${host.address.replace(/\./g, '\\.')}"`));
    // known_hosts is left as it was: nothing is ever accepted silently.
    assert.equal(fs.readFileSync(knownHosts, 'utf8'), `${host.address} ${impostor}\n`);
  });

  it('an unknown host (empty known_hosts): says to connect once with ssh to verify it', async () => {
    const knownHosts = path.join(dir, 'known_hosts_empty');
    fs.writeFileSync(knownHosts, '');
    const config = configWith('config-unknown', /UserKnownHostsFile .*/, `UserKnownHostsFile ${knownHosts}`);
    await expectRefusal(
      config,
      'FailedPrecondition',
      new RegExp(`host key for gantry-test-22 is not known: connect once with \`ssh -F ${config} gantry-test-22\` to verify and record it`),
    );
    assert.equal(fs.readFileSync(knownHosts, 'utf8'), '', 'StrictHostKeyChecking=yes: no accept-new');
  });

  it('a key the host does not accept: says the login was refused and where keys go', async () => {
    await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'stranger')]);
    const config = configWith('config-wrongkey', /IdentityFile .*/, `IdentityFile ${path.join(dir, 'stranger')}`);
    await expectRefusal(config, 'Unauthenticated', /ssh:\/\/gantry-test-22 refused our login \(tried: publickey\).*authorized_keys/s);
  });

  it('no sshd on the port: connection refused', async () => {
    await expectRefusal(
      remote.sshd.sshConfigPath,
      'Unavailable',
      /ssh:\/\/gantry-test-22:2299: connection refused: nothing listens for SSH on port 2299/,
      `${remote.target}:2299`,
    );
  });

  it('the CLI prints the same advice and exits 1', async () => {
    const knownHosts = path.join(dir, 'known_hosts_empty2');
    fs.writeFileSync(knownHosts, '');
    const config = configWith('config-unknown2', /UserKnownHostsFile .*/, `UserKnownHostsFile ${knownHosts}`);
    const res = await remote.cli(['version'], { env: { ...remote.env, GANTRY_SSH_CONFIG: config } });
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(
      res.stderr,
      /^gantry: ssh: host key for gantry-test-22 is not known: connect once with `ssh -F \S+ gantry-test-22` to verify and record it, then try again\n$/,
    );
  });

  describe('a host without Node or runc', () => {
    // Each needs its own sshd: a hidden binary is hidden for one sshd's mount namespace.
    it('no Node.js anywhere: names it and how to install it', async () => {
      const bare = await startRemoteHost({ cleanup, host, port: 2222 });
      await bare.hide('/usr/bin/node');
      assert.ok(fs.statSync('/usr/bin/node').size > 0, 'hidden only on the test host, not here');
      await assert.rejects(connectRemote(background(), bare.target, bare.options), (e: unknown) => {
        assert.ok(isGantryError(e));
        assert.equal(e.kind, 'FailedPrecondition');
        assert.match(
          e.message,
          /ssh:\/\/gantry-test-2222 cannot run gantryd; missing:\n {2}- Node\.js 20\.18\.1 or newer \(none on PATH or in ~\/\.vscode-server\): install Node\.js/,
        );
        assert.doesNotMatch(e.message, /runc|conmon/);
        return true;
      });
      await bare.expectNoLeftovers();
      assert.equal(fs.existsSync(path.join(bare.gantryHome, 'bin')), false);
    });

    it('no runc: names it and the package to install', async () => {
      const bare = await startRemoteHost({ cleanup, host, port: 2223 });
      await bare.hide('/usr/sbin/runc');
      const res = await bare.cli(['version']);
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /gantry: ssh:\/\/gantry-test-2223 cannot run gantryd; missing:\n {2}- runc \(not on PATH or in the sbin dirs\): install it, e\.g\. `sudo apt install runc` \(Debian\/Ubuntu\)/,
      );
      assert.doesNotMatch(res.stderr, /Node|conmon/);
      await bare.expectNoLeftovers();
      assert.equal(fs.existsSync(path.join(bare.gantryHome, 'bin')), false);
      assert.deepEqual(bare.daemonPids(), []);
    });
  });
});
