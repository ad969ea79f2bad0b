import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { background } from '../../../../runtime/context';
import { isGantryError, isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import { remoteCommand, shellQuote, Ssh } from '../../../../runtime/client/ssh/ssh';

/** What the login shell hands a command after parsing `line` (each word on its own line, NUL-separated). */
function parsedBy(shell: string, line: string): string[] {
  const res = spawnSync(shell, ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.split('\0').slice(0, -1);
}

describe('remote: ssh command lines', () => {
  const nasty = ["it's", '$(touch /tmp/gantry-pwned)', '`id`', '"double"', 'a b\tc', '*', '~root', '$HOME', '\\n', ';rm -rf /;', '', "'"];

  for (const shell of ['/bin/sh', '/bin/bash', '/bin/dash']) {
    it(`${shell} reads every quoted word back literally`, function () {
      if (spawnSync(shell, ['-c', 'true']).status !== 0) this.skip();
      assert.deepEqual(parsedBy(shell, nasty.map(shellQuote).join(' ')), nasty);
      assert.deepEqual(parsedBy(shell, remoteCommand(nasty)), nasty);
    });
  }

  it('refuses newlines and NUL instead of quoting them', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\0b']) assert.throws(() => shellQuote(bad), isInvalidArgument);
  });

  it('builds argv: our options, the target after "--", the command last', () => {
    const ssh = new Ssh({ host: 'box', user: 'dev', port: 2222 }, { configFile: '/tmp/cfg', aliveIntervalSec: 1, aliveCountMax: 4 });
    const argv = ssh.argv("'/bin/sh' '-s'");
    assert.deepEqual(argv.slice(0, 2), ['-F', '/tmp/cfg']);
    for (const o of [
      'BatchMode=yes',
      'StrictHostKeyChecking=yes',
      'ConnectTimeout=15',
      'ServerAliveInterval=1',
      'ServerAliveCountMax=4',
      'ControlMaster=no',
    ]) {
      assert.ok(argv.includes(o), `${o} in ${argv.join(' ')}`);
      assert.equal(argv[argv.indexOf(o) - 1], '-o');
    }
    assert.deepEqual(argv.slice(-7), ['-l', 'dev', '-p', '2222', '--', 'box', "'/bin/sh' '-s'"]);
    assert.equal(ssh.label, 'ssh://dev@box:2222');
    assert.equal(ssh.sshCommand, 'ssh -F /tmp/cfg -p 2222 dev@box');
    assert.equal(ssh.aliveTimeoutSec, 4);
    const plain = new Ssh({ host: 'alias' });
    assert.deepEqual(plain.argv('true').slice(-3), ['--', 'alias', 'true']);
    assert.ok(!plain.argv('true').includes('-F'));
  });

  it('a missing ssh client is a clear FailedPrecondition', async () => {
    const ssh = new Ssh({ host: 'box' }, { sshPath: '/nonexistent/ssh' });
    await assert.rejects(ssh.run(background(), 'true', { timeoutMs: 10_000, what: 'probing' }), (e: unknown) => {
      assert.ok(isGantryError(e));
      assert.equal(e.kind, 'FailedPrecondition');
      assert.match(e.message, /the ssh client "\/nonexistent\/ssh" was not found: install OpenSSH's client/);
      return true;
    });
  });
});
