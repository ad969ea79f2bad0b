// What Connect to Host… offers: the local runtime, recent hosts, the ssh
// config's hosts, and the typed text — from plain data, no VS Code. Plus the
// host choice parsing and the per-workspace store behind it.
import { strict as assert } from 'node:assert';
import { LOCAL, parseHostChoice, hostChoiceSpec, shortHostLabel, type HostChoice } from '../../../src/hosts/hostChoice';
import { buildHostPicks, type HostPickEntry, type HostPickInput } from '../../../src/hosts/hostPicks';
import { HostStore, MAX_RECENT_HOSTS, type StateStore } from '../../../src/hosts/hostStore';

const input = (over: Partial<HostPickInput> = {}): HostPickInput => ({
  current: LOCAL,
  recent: [],
  sshHosts: [],
  sshConfigName: '~/.ssh/config',
  typed: '',
  ...over,
});

/** One line per row: "label | description | choice" (separators as "── label"). */
const rows = (entries: HostPickEntry[]) =>
  entries.map((e) =>
    e.kind === 'separator' ? `── ${e.label}` : `${e.label} | ${e.description ?? ''} | ${e.choice ? hostChoiceSpec(e.choice) : e.kind}`,
  );

describe('Connect to Host… entries', () => {
  it('with nothing remembered and no ssh config: only the local runtime, marked current', () => {
    assert.deepEqual(rows(buildHostPicks(input())), ['Local runtime | this machine (current) | local']);
  });

  it('lists local, recent hosts, then the ssh config hosts not already listed, marking the current one', () => {
    const ssh = parseHostChoice('ssh://gantry@devbox:2222');
    const entries = buildHostPicks(
      input({
        current: ssh,
        recent: ['ssh://gantry@devbox:2222', 'ssh://web1', 'not a host at all'],
        sshHosts: [
          { alias: 'web1', file: '/c', user: 'deploy' },
          { alias: 'db', file: '/c', hostName: '10.0.0.7', user: 'admin', port: 2200 },
          { alias: 'plain', file: '/c' },
        ],
      }),
    );
    assert.deepEqual(rows(entries), [
      'Local runtime | this machine | local',
      '── recent',
      'ssh://gantry@devbox:2222 | recent (current) | ssh://gantry@devbox:2222',
      'ssh://web1 | recent | ssh://web1',
      '── ~/.ssh/config',
      'db | admin@10.0.0.7:2200 | ssh://db',
      'plain |  | ssh://plain',
    ]);
    assert.equal(entries[2].removable, true, 'recent hosts can be removed from the list');
    assert.equal(entries[5].removable, undefined, 'config hosts cannot');
  });

  it('lists the current host even before it ever connected', () => {
    const entries = buildHostPicks(input({ current: parseHostChoice('root@10.1.2.3'), sshHosts: [{ alias: 'x', file: '/c' }] }));
    assert.deepEqual(rows(entries), [
      'Local runtime | this machine | local',
      '── recent',
      'ssh://root@10.1.2.3 | current | ssh://root@10.1.2.3',
      '── ~/.ssh/config',
      'x |  | ssh://x',
    ]);
  });

  it('offers typed text as a host first, in canonical form, unless it is already listed', () => {
    const typed = (text: string, over: Partial<HostPickInput> = {}) => rows(buildHostPicks(input({ typed: text, ...over })))[0];
    assert.equal(typed('gantry@devbox:2222'), 'Connect to ssh://gantry@devbox:2222 | typed | ssh://gantry@devbox:2222');
    assert.equal(typed('ssh://root@[fe80::1]:22/'), 'Connect to ssh://root@[fe80::1]:22 | typed | ssh://root@[fe80::1]:22');
    assert.equal(typed('  myalias '), 'Connect to ssh://myalias | typed | ssh://myalias');
    // Already in the list (as a recent host, a config alias, or the local runtime): no extra row.
    assert.equal(typed('ssh://web1', { recent: ['ssh://web1'] }), 'Local runtime | this machine (current) | local');
    assert.equal(typed('db', { sshHosts: [{ alias: 'db', file: '/c' }] }), 'Local runtime | this machine (current) | local');
    assert.equal(typed('local'), 'Local runtime | this machine (current) | local');
  });

  it('says why typed text is not a host, and that row picks nothing', () => {
    for (const [text, reason] of [
      ['tcp://host:1', /only ssh:\/\/ hosts are supported/],
      ['user@host:99999', /bad port "99999"/],
      ['two words', /spaces or control characters/],
      ['-oProxyCommand=x', /must not start with "-"/],
    ] as const) {
      const [first] = buildHostPicks(input({ typed: text }));
      assert.equal(first.kind, 'invalid', text);
      assert.equal(first.choice, undefined);
      assert.match(first.detail ?? '', reason);
    }
  });

  it("names the remote workspace's machine as the local runtime under Remote-SSH", () => {
    assert.equal(buildHostPicks(input({ remoteName: 'ssh-remote' }))[0].description, "the ssh-remote workspace's machine (current)");
  });
});

describe('host choices', () => {
  it('reads "local" and ssh targets, and writes them back the same', () => {
    assert.deepEqual(parseHostChoice('LOCAL'), LOCAL);
    const c = parseHostChoice('user@host:2200') as Extract<HostChoice, { kind: 'ssh' }>;
    assert.equal(c.label, 'ssh://user@host:2200');
    assert.deepEqual(c.target, { host: 'host', user: 'user', port: 2200 });
    assert.deepEqual(parseHostChoice(hostChoiceSpec(c)), c);
    assert.equal(shortHostLabel(c.label), 'user@host:2200');
    assert.throws(() => parseHostChoice('  '), /no host given/);
  });
});

describe('host store (workspace state)', () => {
  const memento = (): StateStore & { data: Map<string, unknown> } => {
    const data = new Map<string, unknown>();
    return { data, get: <T>(k: string) => data.get(k) as T | undefined, update: async (k, v) => void data.set(k, v) };
  };

  it('remembers the active runtime; local when nothing or garbage is stored', async () => {
    const m = memento();
    const store = new HostStore(m);
    assert.deepEqual(store.active, LOCAL);
    await store.setActive(parseHostChoice('ssh://root@box'));
    assert.equal(hostChoiceSpec(store.active), 'ssh://root@box');
    assert.equal(new HostStore(m).active.kind, 'ssh', 'a new window of the workspace reads it back');
    m.data.set('gantry.host.active', 'ftp://nope');
    assert.deepEqual(store.active, LOCAL);
    await store.setActive(LOCAL);
    assert.deepEqual(store.active, LOCAL);
  });

  it('keeps recent hosts most recent first, without duplicates, at most MAX_RECENT_HOSTS', async () => {
    const store = new HostStore(memento());
    for (let i = 0; i < MAX_RECENT_HOSTS + 2; i++) await store.remember(`ssh://h${i}`);
    await store.remember('ssh://h5');
    assert.equal(store.recent.length, MAX_RECENT_HOSTS);
    assert.deepEqual(store.recent.slice(0, 3), ['ssh://h5', 'ssh://h9', 'ssh://h8']);
    await store.forget('ssh://h9');
    assert.deepEqual(store.recent.slice(0, 2), ['ssh://h5', 'ssh://h8']);
  });
});
