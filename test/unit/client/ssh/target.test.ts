import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import { formatSshTarget, parseSshTarget } from '../../../../runtime/client/ssh/target';

describe('remote: host targets', () => {
  it('reads ssh:// URLs, user@host[:port] and ssh_config aliases', () => {
    assert.deepEqual(parseSshTarget('ssh://root@10.0.0.2:2222'), { host: '10.0.0.2', user: 'root', port: 2222 });
    assert.deepEqual(parseSshTarget('ssh://build-box'), { host: 'build-box' });
    assert.deepEqual(parseSshTarget('ssh://build-box/'), { host: 'build-box' });
    assert.deepEqual(parseSshTarget('SSH://dev@box'), { host: 'box', user: 'dev' });
    assert.deepEqual(parseSshTarget('dev@box.example.com'), { host: 'box.example.com', user: 'dev' });
    assert.deepEqual(parseSshTarget('box:22'), { host: 'box', port: 22 });
    assert.deepEqual(parseSshTarget('  my-alias  '), { host: 'my-alias' });
    // The user part may itself hold an @ (e.g. a domain login); the last @ separates the host.
    assert.deepEqual(parseSshTarget('ssh://me@corp@box'), { host: 'box', user: 'me@corp' });
  });

  it('reads IPv6 addresses, bracketed when a port follows', () => {
    assert.deepEqual(parseSshTarget('ssh://root@[fe80::1]:2222'), { host: 'fe80::1', user: 'root', port: 2222 });
    assert.deepEqual(parseSshTarget('[::1]'), { host: '::1' });
    assert.deepEqual(parseSshTarget('::1'), { host: '::1' });
    assert.equal(formatSshTarget({ host: 'fe80::1', port: 22 }), 'ssh://[fe80::1]:22');
  });

  it('formats only the parts that were given', () => {
    assert.equal(formatSshTarget(parseSshTarget('box')), 'ssh://box');
    assert.equal(formatSshTarget(parseSshTarget('u@box:2')), 'ssh://u@box:2');
  });

  it('refuses what is not an ssh host, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /no host/],
      ['tcp://box:2375', /only ssh:\/\/ hosts are supported, not tcp:\/\//],
      ['unix:///run/gantry.sock', /only ssh:\/\//],
      ['ssh://box/path', /a path is not allowed/],
      ['ssh://@box', /empty user/],
      ['box:0', /bad port "0"/],
      ['box:65536', /bad port/],
      ['box:ssh', /bad port "ssh"/],
      ['-oProxyCommand=evil', /must not start with "-"/],
      ['ssh://-oProxyCommand=x@box', /must not start with "-"/],
      ['box name', /spaces or control characters/],
      ['box\nother', /spaces or control characters/],
      ['[::1', /unclosed \[/],
      ['[::1]x', /unexpected "x" after \]/],
    ];
    for (const [spec, why] of cases) {
      assert.throws(
        () => parseSshTarget(spec),
        (e: unknown) => isInvalidArgument(e) && why.test((e as Error).message),
        `"${spec}" should fail with ${why}`,
      );
    }
  });
});
