// Proves sshd.ts: a real OpenSSH server on loopback and on a netns test host,
// reached with the system ssh client in BatchMode with strict host key checks.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTestHost, startSshd } from '../../helpers/sshd';
import { runCommand, waitForPidGone } from '../../helpers/proc';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

const ssh = (config: string, alias: string, ...cmd: string[]) => runCommand('ssh', ['-F', config, alias, ...cmd], { timeout: 60_000 });

describe('harness: sshd', () => {
  const cleanup = suiteCleanup();

  it('accepts the generated client key with BatchMode and StrictHostKeyChecking', async () => {
    const sshd = await startSshd({ cleanup });
    const config = fs.readFileSync(sshd.sshConfigPath, 'utf8');
    assert.match(config, /StrictHostKeyChecking yes/);
    assert.match(config, /BatchMode yes/);
    assert.match(sshd.hostKeyPub, /^ssh-ed25519 /);
    assert.equal((await ssh(sshd.sshConfigPath, sshd.alias, 'echo', 'hello-from-sshd')).stdout, 'hello-from-sshd\n');
    await ssh(sshd.sshConfigPath, sshd.alias, 'true');

    await sshd.stop();
    await waitForPidGone(sshd.proc.pid, 'sshd');
    assert.equal(fs.existsSync(sshd.dir), false);
  });

  it('refuses a host whose key does not match known_hosts, saying so', async () => {
    const sshd = await startSshd({ cleanup });
    const dir = await makeTempDir('gkh', cleanup);
    // A different ed25519 key recorded for the same [127.0.0.1]:port.
    await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other')]);
    const otherKey = fs.readFileSync(path.join(dir, 'other.pub'), 'utf8').trim();
    const wrongKnownHosts = path.join(dir, 'known_hosts');
    fs.writeFileSync(wrongKnownHosts, `[127.0.0.1]:${sshd.port} ${otherKey}\n`);
    const emptyKnownHosts = path.join(dir, 'empty_known_hosts');
    fs.writeFileSync(emptyKnownHosts, '');

    const withKnownHosts = (file: string) => {
      const cfg = path.join(dir, `config-${path.basename(file)}`);
      fs.writeFileSync(cfg, fs.readFileSync(sshd.sshConfigPath, 'utf8').replace(sshd.knownHostsPath, file));
      return cfg;
    };
    await assert.rejects(ssh(withKnownHosts(wrongKnownHosts), sshd.alias, 'true'), (e: Error) => {
      assert.match(e.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
      assert.match(e.message, /Host key verification failed/);
      return true;
    });
    await assert.rejects(ssh(withKnownHosts(emptyKnownHosts), sshd.alias, 'true'), /Host key verification failed/);
  });

  it('runs on a netns test host: reachable by ssh, unreachable after down(), back after up()', async () => {
    const host = await createTestHost({ cleanup });
    const sshd = await startSshd({ netns: host.netns, listenAddress: host.address, cleanup });
    assert.equal(sshd.port, 22);
    // The remote side really is the namespace: it owns the test host address.
    const addrs = (await ssh(sshd.sshConfigPath, sshd.alias, 'ip', '-4', '-o', 'addr', 'show')).stdout;
    assert.ok(addrs.includes(`${host.address}/24`), addrs);

    await host.down();
    await assert.rejects(
      runCommand('ssh', ['-F', sshd.sshConfigPath, '-o', 'ConnectTimeout=5', sshd.alias, 'true']),
      /No route to host|Connection timed out|Network is unreachable/,
    );
    await host.up();
    await ssh(sshd.sshConfigPath, sshd.alias, 'true');

    await sshd.stop();
    await host.destroy();
    await waitForPidGone(sshd.proc.pid, 'sshd in netns');
    assert.ok(!(await runCommand('ip', ['netns', 'list'])).stdout.includes(host.netns));
    assert.ok(!(await runCommand('ip', ['-o', 'link', 'show'])).stdout.includes(host.netns.replace('-', '')));
  });
});
