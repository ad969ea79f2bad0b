import { strict as assert } from 'node:assert';
import { discoverSocket, type SocketProbe } from '../../../runtime/client/discovery';
import { socketDistrust, type TrustFacts } from '../../../runtime/client/socketTrust';

describe('socket discovery', () => {
  const probeOf =
    (answering: Record<string, string | undefined>, calls: string[] = []): SocketProbe =>
    async (socket) => {
      calls.push(socket);
      return socket in answering ? answering[socket] : 'no such socket';
    };

  it("passes over a socket that answers but is not root's or the user's, saying why", async () => {
    const own = '/run/user/1000/gantry/gantry.sock';
    const r = await discoverSocket({
      env: {},
      ownSocket: own,
      systemSocket: '/sys.sock',
      probe: probeOf({ [own]: undefined, '/sys.sock': undefined }),
      distrust: (s) => (s === own ? `${s} belongs to uid 1001, not root or uid 1000` : undefined),
    });
    assert.deepEqual([r.socket, r.source], ['/sys.sock', 'system']);
    assert.deepEqual(r.tried, [{ socket: own, source: 'user', reason: `${own} belongs to uid 1001, not root or uid 1000` }]);
  });

  it('takes --socket, then GANTRY_SOCKET, as given, without probing', async () => {
    const calls: string[] = [];
    const env = { GANTRY_SOCKET: '/env.sock', XDG_RUNTIME_DIR: '/run/user/1000' };
    assert.deepEqual(await discoverSocket({ flag: '/flag.sock', env, probe: probeOf({}, calls) }), {
      socket: '/flag.sock',
      source: 'flag',
      found: true,
      tried: [],
    });
    assert.equal((await discoverSocket({ env, probe: probeOf({}, calls) })).source, 'env');
    assert.deepEqual(calls, []);
  });

  it("prefers the user's own daemon when it answers, else the system daemon", async () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
    const own = '/run/user/1000/gantry/gantry.sock';
    const both = await discoverSocket({
      env,
      ownSocket: own,
      systemSocket: '/sys.sock',
      probe: probeOf({ [own]: undefined, '/sys.sock': undefined }),
    });
    assert.deepEqual([both.socket, both.source], [own, 'user']);
    const system = await discoverSocket({
      env,
      distrust: () => undefined,
      ownSocket: own,
      systemSocket: '/sys.sock',
      probe: probeOf({ '/sys.sock': undefined }),
    });
    assert.deepEqual(
      [system.socket, system.source, system.tried],
      ['/sys.sock', 'system', [{ socket: own, source: 'user', reason: 'no such socket' }]],
    );
    const none = await discoverSocket({
      env,
      ownSocket: own,
      systemSocket: '/sys.sock',
      probe: probeOf({ '/sys.sock': 'permission denied; …group gantry' }),
    });
    assert.equal(none.found, false);
    assert.equal(none.socket, own);
    assert.deepEqual(
      none.tried.map((t) => t.reason),
      ['no such socket', 'permission denied; …group gantry'],
    );
  });

  it('as root, whose own socket is the system socket, that is the only place', async () => {
    const calls: string[] = [];
    const r = await discoverSocket({
      env: {},
      ownSocket: '/run/gantry/gantry.sock',
      systemSocket: '/run/gantry/gantry.sock',
      probe: probeOf({}, calls),
    });
    assert.deepEqual(calls, ['/run/gantry/gantry.sock']);
    assert.equal(r.found, false);
  });
});

describe('socket trust for credentials', () => {
  type Entry = { uid: number; mode: number; kind: 'dir' | 'socket' | 'link' | 'file' };
  const factsOf = (uid: number, tree: Record<string, Entry>): TrustFacts => ({
    uid,
    realpath: (p) => p,
    lstat: (p) => {
      const e = tree[p];
      if (!e) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return {
        uid: e.uid,
        mode: e.mode,
        isSocket: () => e.kind === 'socket',
        isSymbolicLink: () => e.kind === 'link',
        isDirectory: () => e.kind === 'dir',
      };
    },
  });
  const root = { '/': { uid: 0, mode: 0o755, kind: 'dir' } as Entry };

  it("accepts the user's socket in the user's 0700 dir, and root's in /run/gantry", () => {
    const tree = {
      ...root,
      '/run': { uid: 0, mode: 0o755, kind: 'dir' },
      '/run/user': { uid: 0, mode: 0o755, kind: 'dir' },
      '/run/user/1000': { uid: 1000, mode: 0o700, kind: 'dir' },
      '/run/user/1000/gantry': { uid: 1000, mode: 0o700, kind: 'dir' },
      '/run/user/1000/gantry/gantry.sock': { uid: 1000, mode: 0o660, kind: 'socket' },
      '/run/gantry': { uid: 0, mode: 0o711, kind: 'dir' },
      '/run/gantry/gantry.sock': { uid: 0, mode: 0o660, kind: 'socket' },
    } satisfies Record<string, Entry>;
    assert.equal(socketDistrust('/run/user/1000/gantry/gantry.sock', factsOf(1000, tree)), undefined);
    assert.equal(socketDistrust('/run/gantry/gantry.sock', factsOf(1000, tree)), undefined);
  });

  it("accepts a dir in sticky /tmp that is the user's own, refuses one another user made", () => {
    const tree = {
      ...root,
      '/tmp': { uid: 0, mode: 0o1777, kind: 'dir' },
      '/tmp/gantry-1000': { uid: 1000, mode: 0o700, kind: 'dir' },
      '/tmp/gantry-1000/gantry.sock': { uid: 1000, mode: 0o660, kind: 'socket' },
      '/tmp/gantry-1001': { uid: 2000, mode: 0o755, kind: 'dir' },
      '/tmp/gantry-1001/gantry.sock': { uid: 1001, mode: 0o777, kind: 'socket' },
    } satisfies Record<string, Entry>;
    assert.equal(socketDistrust('/tmp/gantry-1000/gantry.sock', factsOf(1000, tree)), undefined);
    assert.match(socketDistrust('/tmp/gantry-1001/gantry.sock', factsOf(1001, tree))!, /^\/tmp\/gantry-1001 .*belongs to uid 2000/);
  });

  it('refuses a socket of another user, a symlink, a non-socket, and a dir others can write', () => {
    const tree = {
      ...root,
      '/d': { uid: 1000, mode: 0o700, kind: 'dir' },
      '/d/other.sock': { uid: 2000, mode: 0o777, kind: 'socket' },
      '/d/link.sock': { uid: 1000, mode: 0o777, kind: 'link' },
      '/d/file.sock': { uid: 1000, mode: 0o600, kind: 'file' },
      '/w': { uid: 1000, mode: 0o777, kind: 'dir' },
      '/w/gantry.sock': { uid: 1000, mode: 0o660, kind: 'socket' },
      '/g': { uid: 0, mode: 0o775, kind: 'dir' },
      '/g/gantry.sock': { uid: 0, mode: 0o660, kind: 'socket' },
    } satisfies Record<string, Entry>;
    const f = factsOf(1000, tree);
    assert.match(socketDistrust('/d/other.sock', f)!, /belongs to uid 2000, not root or uid 1000/);
    assert.match(socketDistrust('/d/link.sock', f)!, /symbolic link/);
    assert.match(socketDistrust('/d/file.sock', f)!, /not a socket/);
    assert.match(socketDistrust('/w/gantry.sock', f)!, /\/w .*writable by others and not sticky/);
    assert.match(socketDistrust('/g/gantry.sock', f)!, /\/g .*writable by its group/);
    assert.match(socketDistrust('/d/missing.sock', f)!, /cannot check .*ENOENT/);
  });
});
