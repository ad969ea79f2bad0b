// Real stderr of OpenSSH 9.2p1 (Debian 12) for each failure, captured against
// the test sshd of test/helpers/sshd.ts; the classification must keep
// recognising them.
import { strict as assert } from 'node:assert';
import { classifySshFailure } from '../../../../runtime/client/ssh/sshErrors';

const ctx = { label: 'ssh://gantry-test-22', host: 'gantry-test-22', sshCommand: 'ssh -F /tmp/c gantry-test-22', aliveTimeoutSec: 3 };

const UNKNOWN_HOST = `No ED25519 host key is known for 10.250.121.2 and you have requested strict checking.
Host key verification failed.
`;

const CHANGED_HOST = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:SPknQG3+FtYbJkvvWBgb8gt0kPNaP8Bh51Ilkc//edk.
Please contact your system administrator.
Add correct host key in /tmp/rx/kh to get rid of this message.
Offending ED25519 key in /tmp/rx/kh:1
  remove with:
  ssh-keygen -f "/tmp/rx/kh" -R "10.250.121.2"
Host key for 10.250.121.2 has changed and you have requested strict checking.
Host key verification failed.
`;

describe('remote: ssh failures', () => {
  it('unknown host key: says to connect once with ssh to verify it', () => {
    const e = classifySshFailure(UNKNOWN_HOST, ctx);
    assert.equal(e.kind, 'FailedPrecondition');
    assert.equal(e.transport, true);
    assert.match(
      e.message,
      /host key for gantry-test-22 is not known: connect once with `ssh -F \/tmp\/c gantry-test-22` to verify and record it/,
    );
  });

  it('changed host key: says it changed, refuses, and names the ssh-keygen -R line', () => {
    const e = classifySshFailure(CHANGED_HOST, ctx);
    assert.equal(e.kind, 'PermissionDenied');
    assert.match(e.message, /host key of gantry-test-22 has CHANGED/);
    assert.match(e.message, /Gantry will not connect/);
    assert.match(e.message, /ssh-keygen -f "\/tmp\/rx\/kh" -R "10\.250\.121\.2"/);
    assert.doesNotMatch(e.message, /is not known/);
  });

  it('rejected key: names the methods tried and where the key must be', () => {
    const e = classifySshFailure('root@10.250.121.2: Permission denied (publickey).\n', ctx);
    assert.equal(e.kind, 'Unauthenticated');
    assert.match(e.message, /ssh:\/\/gantry-test-22 refused our login \(tried: publickey\)/);
    assert.match(e.message, /authorized_keys/);
    assert.equal(
      classifySshFailure('Received disconnect from 10.0.0.1 port 22:2: Too many authentication failures\n', ctx).kind,
      'Unauthenticated',
    );
  });

  it('connection refused, timed out, unreachable, unresolvable', () => {
    const refused = classifySshFailure('ssh: connect to host 10.250.121.2 port 2299: Connection refused\n', ctx);
    assert.equal(refused.kind, 'Unavailable');
    assert.match(refused.message, /connection refused: nothing listens for SSH on port 2299/);

    const timedOut = classifySshFailure('ssh: connect to host 10.250.121.2 port 22: Connection timed out\n', ctx);
    assert.equal(timedOut.kind, 'Unavailable');
    assert.match(timedOut.message, /connection timed out/);
    assert.match(
      classifySshFailure('Connection timed out during banner exchange\nConnection to 10.1.2.3 port 22 timed out\n', ctx).message,
      /timed out/,
    );

    const noRoute = classifySshFailure('ssh: connect to host 10.250.121.2 port 22: No route to host\n', ctx);
    assert.equal(noRoute.kind, 'Unavailable');
    assert.match(noRoute.message, /no route to host/);

    const dns = classifySshFailure('ssh: Could not resolve hostname nonexistent-host.invalid: Name or service not known\n', ctx);
    assert.equal(dns.kind, 'NotFound');
    assert.match(dns.message, /cannot resolve host name "nonexistent-host.invalid" \(Name or service not known\)/);
  });

  it('keepalive timeout: a lost link, with the time it took to notice', () => {
    const e = classifySshFailure('Timeout, server 10.250.121.2 not responding.\r\n', ctx);
    assert.equal(e.kind, 'Unavailable');
    assert.match(e.message, /lost the link to ssh:\/\/gantry-test-22: the server did not answer ssh keepalives for 3 s/);
  });

  it('closed during setup, and configuration mistakes', () => {
    assert.equal(classifySshFailure('kex_exchange_identification: read: Connection reset by peer\n', ctx).kind, 'Unavailable');
    assert.match(classifySshFailure('Connection closed by 10.250.1.2 port 22\n', ctx).message, /the SSH connection was closed/);
    const bad = classifySshFailure("Can't open user config file /nope: No such file or directory\n", ctx);
    assert.equal(bad.kind, 'InvalidArgument');
    assert.match(bad.message, /ssh configuration error: Can't open user config file \/nope/);
    assert.equal(
      classifySshFailure('/tmp/c: line 3: Bad configuration option: frobnicate\n/tmp/c: terminating, 1 bad configuration options\n', ctx)
        .kind,
      'InvalidArgument',
    );
  });

  it('anything else: Unavailable with ssh’s last line', () => {
    const e = classifySshFailure('debug1: something\nsomething unexpected happened\n', ctx);
    assert.equal(e.kind, 'Unavailable');
    assert.equal(e.message, 'ssh to ssh://gantry-test-22 failed: something unexpected happened');
    assert.match(classifySshFailure('', ctx).message, /exit 255, no message/);
  });
});
