// The rootless namespace holder's pid checks (docs/rootless.md, "Containers
// outlive the daemon"), on a fake /proc and on the real one; nsenter's
// arguments; and RootlessKit's ports taken over or withdrawn by their spec
// after a restart, against a fake RootlessKit API on a unix socket.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { findHolder, holderProblem, othersInNamespace, type ProcView } from '../../../runtime/daemon/rootless/holder';
import { RootlessKitPorts } from '../../../runtime/daemon/rootless/portDriver';
import { nsenterArgs } from '../../../runtime/daemon/rootless/reexec';
import { makeTempDir } from '../../helpers/tmp';

const STATE = '/run/user/1001/gantry';
const RK = `${STATE}/rootlesskit`;
const ASKER = { uid: 1001, userns: 'user:[4026531837]' };
const NS = 'user:[4026532999]';

interface FakeProc {
  cmdline: string[];
  environ?: string[];
  uid?: number;
  ppid: number;
  userns?: string;
  zombie?: boolean;
  children?: number[];
}

/** RootlessKit (100) → its child (200, child_pid) → catatonit -P (300), and slirp4netns (110). */
function tree(): Map<number, FakeProc> {
  const rkArgs = [`--state-dir=${RK}`, '--net=slirp4netns', '--copy-up=/etc', '--copy-up=/run', '--', '/usr/bin/catatonit', '-P'];
  return new Map<number, FakeProc>([
    [100, { cmdline: ['/usr/bin/rootlesskit', ...rkArgs], ppid: 1, userns: ASKER.userns }],
    [110, { cmdline: ['slirp4netns', '--mtu', '65520', '200', 'tap0'], ppid: 100, userns: NS }],
    [
      200,
      {
        cmdline: ['/proc/self/exe', ...rkArgs],
        environ: ['PATH=/usr/bin', `ROOTLESSKIT_STATE_DIR=${RK}`, 'GANTRY_ROOTLESS_NET=slirp4netns'],
        ppid: 100,
        userns: NS,
        children: [300],
      },
    ],
    [300, { cmdline: ['/usr/bin/catatonit', '-P'], ppid: 200, userns: NS }],
  ]);
}

function view(procs: Map<number, FakeProc>): ProcView {
  return {
    cmdline: (pid) => procs.get(pid)?.cmdline,
    environ: (pid) => procs.get(pid)?.environ ?? (procs.has(pid) ? [] : undefined),
    status: (pid) => {
      const p = procs.get(pid);
      return p && { uid: p.uid ?? ASKER.uid, ppid: p.ppid, zombie: p.zombie };
    },
    userns: (pid) => procs.get(pid)?.userns,
    children: (pid) => procs.get(pid)?.children ?? [],
    pids: () => [...procs.keys()],
  };
}

describe('daemon/rootless holder', () => {
  it('trusts RootlessKit child of this state dir, with a catatonit -P child, of this user, in a namespace of its own', () => {
    assert.equal(holderProblem(200, STATE, view(tree()), ASKER), '');
  });

  it('does not trust a dead pid, a recycled one, or one of another RootlessKit, user or namespace', () => {
    const cases: [string, (t: Map<number, FakeProc>) => void, number, RegExp][] = [
      ['gone', (t) => t.delete(200), 200, /gone/],
      ['not a pid', () => undefined, 0, /not a process id/],
      ['pid 1', () => undefined, 1, /not a process id/],
      ['recycled: another program', (t) => (t.get(200)!.cmdline = ['sleep', '1000']), 200, /not RootlessKit's child/],
      ['catatonit itself, not RootlessKit child', () => undefined, 300, /not RootlessKit's child/],
      [
        'RootlessKit of another state dir',
        (t) => (t.get(200)!.cmdline = ['/proc/self/exe', '--state-dir=/other/rootlesskit', '--', 'catatonit', '-P']),
        200,
        /not RootlessKit's child/,
      ],
      [
        'another command under RootlessKit',
        (t) => (t.get(200)!.cmdline = ['/proc/self/exe', `--state-dir=${RK}`, '--', 'node', 'gantry.js', 'daemon']),
        200,
        /not RootlessKit's child/,
      ],
      ['another user', (t) => (t.get(200)!.uid = 1002), 200, /uid 1002/],
      ['our own user namespace', (t) => (t.get(200)!.userns = ASKER.userns), 200, /user namespace of its own/],
      ['no ROOTLESSKIT_STATE_DIR of ours', (t) => (t.get(200)!.environ = ['ROOTLESSKIT_STATE_DIR=/other']), 200, /ROOTLESSKIT_STATE_DIR/],
      ['a parent that is not RootlessKit', (t) => (t.get(100)!.cmdline = ['bash']), 200, /parent 100 is not RootlessKit/],
      ['a parent that is gone', (t) => t.delete(100), 200, /parent 100 is not RootlessKit/],
      ['no catatonit -P child', (t) => (t.get(200)!.children = []), 200, /no catatonit -P child/],
      ['a child that is not catatonit -P', (t) => (t.get(300)!.cmdline = ['/usr/bin/catatonit', '--', 'sh']), 200, /no catatonit/],
    ];
    for (const [what, change, pid, reason] of cases) {
      const t = tree();
      change(t);
      assert.match(holderProblem(pid, STATE, view(t), ASKER), reason, what);
    }
  });

  it('on the real /proc: this test process and a dead pid are not a holder', async () => {
    assert.notEqual(holderProblem(process.pid, STATE), '');
    const dead =
      Math.max(
        ...fs
          .readdirSync('/proc')
          .filter((n) => /^\d+$/.test(n))
          .map(Number),
      ) + 100000;
    assert.match(holderProblem(dead, STATE), /gone/);
  });

  it('findHolder reads child_pid and finds catatonit, RootlessKit and the network; a stale file gives none', async () => {
    const state = await makeTempDir('gholder');
    try {
      const rk = path.join(state, 'rootlesskit');
      const t = tree();
      // The fake tree, moved to this state dir.
      for (const p of t.values()) {
        p.cmdline = p.cmdline.map((a) => a.replace(RK, rk));
        p.environ = p.environ?.map((e) => e.replace(RK, rk));
      }
      assert.equal(findHolder(state, view(t), undefined, ASKER), undefined, 'no child_pid file');
      fs.mkdirSync(rk);
      fs.writeFileSync(path.join(rk, 'child_pid'), '200');
      assert.deepEqual(findHolder(state, view(t), undefined, ASKER), {
        nsPid: 200,
        pid: 300,
        rootlesskitPid: 100,
        net: 'slirp4netns',
        rootlesskitState: rk,
      });
      t.get(200)!.environ = [`ROOTLESSKIT_STATE_DIR=${rk}`];
      assert.equal(findHolder(state, view(t), undefined, ASKER)?.net, 'host');
      fs.writeFileSync(path.join(rk, 'child_pid'), '300');
      assert.equal(findHolder(state, view(t), undefined, ASKER), undefined, 'the pid of catatonit itself is not what child_pid names');
      fs.writeFileSync(path.join(rk, 'child_pid'), 'garbage');
      assert.equal(findHolder(state, view(t), undefined, ASKER), undefined);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });

  it("othersInNamespace: containers and conmons count; the holder, RootlessKit's child, slirp4netns and zombies do not", () => {
    const t = tree();
    const holder = { nsPid: 200, pid: 300, rootlesskitPid: 100, net: 'slirp4netns' as const, rootlesskitState: RK };
    assert.deepEqual(othersInNamespace(holder, view(t)), []);
    t.set(400, { cmdline: ['conmon'], ppid: 1, userns: NS });
    t.set(401, { cmdline: ['sh'], ppid: 400, userns: NS });
    t.set(402, { cmdline: [], ppid: 400, userns: NS, zombie: true });
    t.set(500, { cmdline: ['sleep', '9'], ppid: 1, userns: ASKER.userns });
    assert.deepEqual(othersInNamespace(holder, view(t)), [400, 401]);
  });

  it('nsenterArgs: user and mount namespaces, the network one only with slirp4netns; argv, no shell', () => {
    assert.deepEqual(nsenterArgs(200, 'slirp4netns', '/home/u', ['node', 'gantry.js', 'daemon']), [
      '--preserve-credentials',
      '-U',
      '-m',
      '-n',
      '-t',
      '200',
      '--wd=/home/u',
      '--',
      'node',
      'gantry.js',
      'daemon',
    ]);
    assert.ok(!nsenterArgs(200, 'host', '/', ['x']).includes('-n'), "--net=host: the user's network, not joined");
  });
});

describe('daemon/rootless RootlessKit ports across a gantryd restart', () => {
  let dir: string;
  let server: http.Server;
  let ports: { id: number; spec: Record<string, unknown> }[];
  let posts: number;
  let nextId: number;

  beforeEach(async () => {
    dir = await makeTempDir('grkports');
    ports = [];
    posts = 0;
    nextId = 1;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.method === 'GET' && req.url === '/v1/ports') {
          // As RootlessKit: null when nothing is exposed.
          res.end(JSON.stringify(ports.length ? ports : null));
        } else if (req.method === 'POST' && req.url === '/v1/ports') {
          const spec = JSON.parse(body) as Record<string, unknown>;
          if (ports.some((p) => p.spec.parentPort === spec.parentPort)) {
            res.statusCode = 500;
            res.end('port already in use');
            return;
          }
          posts++;
          const p = { id: nextId++, spec };
          ports.push(p);
          res.end(JSON.stringify(p));
        } else if (req.method === 'DELETE' && req.url?.startsWith('/v1/ports/')) {
          ports = ports.filter((p) => p.id !== Number(req.url!.slice('/v1/ports/'.length)));
          res.end();
        } else {
          res.statusCode = 404;
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path.join(dir, 'api.sock'), resolve));
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const web = { hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' as const };
  const dns = { hostIp: '127.0.0.1', hostPort: 15353, containerPort: 53, protocol: 'udp' as const };

  it('a restarted gantryd withdraws, by their spec, the ports an earlier one exposed for a container', async () => {
    await new RootlessKitPorts(dir).publish('c1', [web, dns]);
    await new RootlessKitPorts(dir).publish('c2', [{ ...web, hostPort: 18081 }]);
    assert.equal(ports.length, 3);
    // The gantryd that exposed them is gone; a new one knows the container's mappings from its reservations.
    const restarted = new RootlessKitPorts(dir);
    await restarted.unpublish('c1', [web, dns]);
    assert.deepEqual(
      ports.map((p) => p.spec.parentPort),
      [18081],
      "only the other container's port is left",
    );
    await restarted.unpublish('c1', [web, dns]);
    assert.equal(ports.length, 1, 'withdrawing twice is harmless');
  });

  it('publishing again takes over a leftover port of the same spec instead of exposing it twice', async () => {
    await new RootlessKitPorts(dir).publish('c1', [web]);
    const restarted = new RootlessKitPorts(dir);
    await restarted.publish('c1', [web, dns]);
    assert.equal(posts, 2, 'web was taken over, only dns was exposed');
    assert.deepEqual(ports.map((p) => p.spec.parentPort).sort(), [15353, 18080]);
    await restarted.unpublish('c1');
    assert.deepEqual(ports, [], 'both are withdrawn by the ids it now knows');
  });

  it('a port RootlessKit refuses fails the publish, exposing none', async () => {
    ports.push({ id: 99, spec: { proto: 'tcp', parentIP: '0.0.0.0', parentPort: 15353, childPort: 15353 } });
    await assert.rejects(new RootlessKitPorts(dir).publish('c1', [web, { ...dns, protocol: 'tcp', hostIp: '127.0.0.1' }]), /15353/);
    assert.deepEqual(
      ports.map((p) => p.id),
      [99],
      'the one exposed before the failure is withdrawn',
    );
  });
});
