// The ssh_config reader behind Connect to Host…: Host lines, patterns
// skipped, Include (relative, ~, globs, nesting, loops), missing files —
// from an in-memory file tree, plus one real file on disk.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expandGlob, parseConfigLine, readSshConfigHosts, type ConfigFiles } from '../../../src/hosts/sshConfig';

const HOME = '/home/dev';

/** An in-memory tree: file path → text. Directories are implied by the paths. */
function tree(files: Record<string, string>): ConfigFiles & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readFile: (file) => {
      reads.push(file);
      return files[file];
    },
    readDir: (dir) => {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = new Set<string>();
      for (const f of Object.keys(files)) if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0]);
      return names.size ? [...names] : undefined;
    },
  };
}

const aliases = (file: string, files: ConfigFiles) => readSshConfigHosts(file, HOME, files).map((h) => h.alias);

describe('ssh config hosts', () => {
  it('lists the names of Host lines in order, each once, skipping patterns and negations', () => {
    const files = tree({
      [`${HOME}/.ssh/config`]: [
        '# my hosts',
        'Host devbox',
        '  HostName 10.0.0.5',
        '  User gantry',
        '  Port 2222',
        '',
        'Host web1 web2 *.internal !bastion',
        '    User deploy',
        'Host *',
        '  ServerAliveInterval 30',
        'host   db?',
        'HOST=staging',
        'Host devbox',
        '  User someone-else',
      ].join('\n'),
    });
    const hosts = readSshConfigHosts(`${HOME}/.ssh/config`, HOME, files);
    assert.deepEqual(
      hosts.map((h) => h.alias),
      ['devbox', 'web1', 'web2', 'staging'],
    );
    // The first block naming a host describes it.
    assert.deepEqual(hosts[0], { alias: 'devbox', file: `${HOME}/.ssh/config`, hostName: '10.0.0.5', user: 'gantry', port: 2222 });
    assert.deepEqual(hosts[1], { alias: 'web1', file: `${HOME}/.ssh/config`, user: 'deploy' });
    assert.deepEqual(hosts[3], { alias: 'staging', file: `${HOME}/.ssh/config` });
  });

  it('Match blocks have no hosts; their settings describe nothing', () => {
    const files = tree({
      '/cfg': ['Host a', 'Match host b', '  User matched', '  HostName 1.2.3.4', 'Host c', '  User cuser'].join('\n'),
    });
    const hosts = readSshConfigHosts('/cfg', HOME, files);
    assert.deepEqual(hosts, [
      { alias: 'a', file: '/cfg' },
      { alias: 'c', file: '/cfg', user: 'cuser' },
    ]);
  });

  it('follows Include: relative to ~/.ssh, ~ paths, absolute paths, several per line, globs in sorted order', () => {
    const files = tree({
      [`${HOME}/.ssh/config`]: ['Include config.d/* ~/extra.conf', 'Host main', 'Include /etc/ssh/shared'].join('\n'),
      [`${HOME}/.ssh/config.d/20-work`]: 'Host work\n  HostName work.example.com',
      [`${HOME}/.ssh/config.d/10-home`]: 'Host home-nas',
      [`${HOME}/.ssh/config.d/.hidden`]: 'Host hidden',
      [`${HOME}/extra.conf`]: 'Host extra',
      '/etc/ssh/shared': 'Host shared',
    });
    assert.deepEqual(aliases(`${HOME}/.ssh/config`, files), ['home-nas', 'work', 'extra', 'main', 'shared']);
    const work = readSshConfigHosts(`${HOME}/.ssh/config`, HOME, files).find((h) => h.alias === 'work');
    assert.deepEqual(work, { alias: 'work', file: `${HOME}/.ssh/config.d/20-work`, hostName: 'work.example.com' });
  });

  it('an Include inside a Host block does not end that block', () => {
    const files = tree({
      '/cfg': ['Host outer', '  Include /inc', '  User outer-user'].join('\n'),
      '/inc': 'Host inner\n  User inner-user',
    });
    // After the include, the remaining lines belong to the including file's block again.
    const hosts = readSshConfigHosts('/cfg', HOME, files);
    assert.deepEqual(hosts, [
      { alias: 'outer', file: '/cfg', user: 'outer-user' },
      { alias: 'inner', file: '/inc', user: 'inner-user' },
    ]);
  });

  it("stops an include loop at ssh's depth limit, and lists each host once", () => {
    const files = tree({
      '/a': 'Host a\nInclude /b',
      '/b': 'Host b\nInclude /a',
    });
    assert.deepEqual(aliases('/a', files), ['a', 'b']);
    assert.equal(files.reads.length, 16, 'nesting ends at depth 16, as in ssh');
  });

  it('a missing config, a missing include or an unreadable directory lists nothing and throws nothing', () => {
    assert.deepEqual(aliases(`${HOME}/.ssh/config`, tree({})), []);
    const files = tree({ '/cfg': 'Include /nowhere/* missing.conf\nHost ok' });
    assert.deepEqual(aliases('/cfg', files), ['ok']);
  });

  it('parses keyword=value, quotes and trailing comments', () => {
    assert.deepEqual(parseConfigLine('  Host = "my host" other # comment'), { keyword: 'host', args: ['my host', 'other'] });
    assert.deepEqual(parseConfigLine('IdentityFile "~/.ssh/id with space"'), { keyword: 'identityfile', args: ['~/.ssh/id with space'] });
    assert.deepEqual(parseConfigLine('Port=22'), { keyword: 'port', args: ['22'] });
    assert.equal(parseConfigLine('   # only a comment'), undefined);
    assert.equal(parseConfigLine(''), undefined);
    // A quoted name with a space is no host ssh could be given.
    assert.deepEqual(aliases('/cfg', tree({ '/cfg': 'Host "my host" fine -bad' })), ['fine']);
  });

  it('expands ?, [...] and [!...] one path component at a time', () => {
    const files = tree({ '/d/a1': '', '/d/a2': '', '/d/b1': '', '/d/x/a3': '' });
    assert.deepEqual(expandGlob('/d/a?', files), ['/d/a1', '/d/a2']);
    assert.deepEqual(expandGlob('/d/[ab]1', files), ['/d/a1', '/d/b1']);
    assert.deepEqual(expandGlob('/d/[!a]*', files), ['/d/b1', '/d/x']);
    assert.deepEqual(expandGlob('/d/*/a*', files), ['/d/x/a3']);
    assert.deepEqual(expandGlob('/d/plain', files), ['/d/plain'], 'a path without wildcards is returned as is');
  });

  it('reads a real file and its include from disk', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gsshcfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'config'), `Host disk-one\n  HostName 127.0.0.1\nInclude ${dir}/more-*\n`);
      fs.writeFileSync(path.join(dir, 'more-1'), 'Host disk-two\n');
      const hosts = readSshConfigHosts(path.join(dir, 'config'), dir);
      assert.deepEqual(
        hosts.map((h) => h.alias),
        ['disk-one', 'disk-two'],
      );
      assert.equal(hosts[0].hostName, '127.0.0.1');
      assert.deepEqual(readSshConfigHosts(path.join(dir, 'absent'), dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
