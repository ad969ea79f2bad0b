import { strict as assert } from 'node:assert';
import { runDoctor, type DoctorProbe, type FileFacts } from '../../../runtime/doctor';

type Host = {
  uid: number;
  files: Record<string, string>;
  stats: Record<string, FileFacts>;
  tools: string[];
  rw?: string[];
  kernel?: string;
};

const file = (uid = 0, mode = 0o755): FileFacts => ({ uid, gid: 0, mode, kind: 'file' });

/** A Debian host with everything installed; each test takes something away. */
function fullHost(uid: number): Host {
  const stats: Record<string, FileFacts> = {};
  for (const p of ['bridge', 'host-local', 'portmap', 'firewall', 'tuning', 'loopback']) stats[`/usr/lib/cni/${p}`] = file();
  stats['/sys/fs/cgroup/cgroup.controllers'] = file(0, 0o444);
  stats['/dev/net/tun'] = { uid: 0, gid: 0, mode: 0o666, kind: 'char' };
  return {
    uid,
    kernel: '6.1.0-18-amd64',
    tools: ['runc', 'conmon', 'iptables', 'catatonit', 'newuidmap', 'newgidmap', 'rootlesskit', 'slirp4netns'],
    stats,
    rw: ['/dev/net/tun'],
    files: {
      '/proc/filesystems': 'nodev\tproc\nnodev\toverlay\n',
      '/etc/subuid': 'gantry:100000:65536\nalice:165536:65536\n',
      '/etc/subgid': 'gantry:100000:65536\nalice:165536:65536\n',
      '/proc/sys/user/max_user_namespaces': '63000\n',
      [`/sys/fs/cgroup/user.slice/user-${uid}.slice/user@${uid}.service/cgroup.controllers`]: 'cpuset cpu io memory pids\n',
      '/etc/group': 'root:x:0:\ngantry:x:990:alice\n',
    },
  };
}

function probeOf(h: Host): DoctorProbe {
  return {
    uid: h.uid,
    user: h.uid === 0 ? 'root' : 'alice',
    gids: [h.uid],
    env: { PATH: '/usr/bin', XDG_RUNTIME_DIR: `/run/user/${h.uid}` },
    kernel: h.kernel ?? '6.1.0',
    which: (name) => (h.tools.includes(name) ? `/usr/bin/${name}` : undefined),
    readFile: (f) => h.files[f],
    stat: (f) => h.stats[f] ?? (h.tools.some((t) => f.endsWith(`/${t}`) && f.startsWith('/usr/bin/')) ? file() : undefined),
    canReadWrite: (f) => (h.rw ?? []).includes(f),
  };
}

const row = (r: ReturnType<typeof runDoctor>, mode: string, id: string) => r.checks.find((c) => c.mode === mode && c.id === id)!;

describe('gantry doctor checks', () => {
  it('a full host passes both modes; the verdict is about the current one', () => {
    const asRoot = runDoctor(probeOf(fullHost(0)));
    assert.equal(asRoot.mode, 'rootful');
    assert.equal(asRoot.ok, true);
    const asUser = runDoctor(probeOf(fullHost(1000)));
    assert.equal(asUser.mode, 'rootless');
    assert.deepEqual(
      asUser.checks.filter((c) => !c.ok).map((c) => c.id),
      [],
    );
    assert.equal(asUser.ok, true);
  });

  it("finds an sbin tool off the user's PATH, also as a symlink (Debian's iptables alternatives)", () => {
    const h = fullHost(1000);
    h.tools = h.tools.filter((t) => t !== 'iptables');
    assert.equal(row(runDoctor(probeOf(h)), 'rootless', 'iptables').ok, false);
    h.stats['/usr/sbin/iptables'] = { uid: 0, gid: 0, mode: 0o777, kind: 'symlink' };
    assert.deepEqual(
      [row(runDoctor(probeOf(h)), 'rootless', 'iptables').ok, row(runDoctor(probeOf(h)), 'rootless', 'iptables').detail],
      [true, '/usr/sbin/iptables'],
    );
  });

  it('a missing runc fails both modes with the package to install', () => {
    const h = fullHost(1000);
    h.tools = h.tools.filter((t) => t !== 'runc');
    const r = runDoctor(probeOf(h));
    assert.equal(r.ok, false);
    for (const mode of ['rootful', 'rootless'])
      assert.deepEqual([row(r, mode, 'runc').ok, row(r, mode, 'runc').fix], [false, 'apt-get install runc']);
  });

  it('rootless needs uidmap, a subordinate range, user namespaces, rootlesskit and catatonit; root is not held back by them', () => {
    const cases: Array<[string, (h: Host) => void, RegExp]> = [
      ['uidmap', (h) => (h.tools = h.tools.filter((t) => t !== 'newgidmap')), /apt-get install uidmap/],
      ['subuid', (h) => (h.files['/etc/subuid'] = 'gantry:100000:65536\n'), /usermod --add-subuids 165536-231071 alice/],
      ['subgid', (h) => (h.files['/etc/subgid'] = 'alice:165536:1000\n'), /usermod --add-subgids 166536-232071 alice/],
      ['userns', (h) => (h.files['/proc/sys/kernel/unprivileged_userns_clone'] = '0\n'), /kernel\.unprivileged_userns_clone=1/],
      ['userns', (h) => (h.files['/proc/sys/user/max_user_namespaces'] = '0\n'), /user\.max_user_namespaces=28633/],
      ['rootlesskit', (h) => (h.tools = h.tools.filter((t) => t !== 'rootlesskit')), /apt-get install rootlesskit/],
      // The namespace holder (docs/rootless.md); as root only pods need it.
      ['catatonit', (h) => (h.tools = h.tools.filter((t) => t !== 'catatonit')), /apt-get install catatonit/],
    ];
    for (const [id, breakIt, fix] of cases) {
      const user = fullHost(1000);
      breakIt(user);
      const r = runDoctor(probeOf(user));
      assert.equal(r.ok, false, id);
      assert.equal(row(r, 'rootless', id).required, true, id);
      assert.match(row(r, 'rootless', id).fix, fix, id);
      const root = fullHost(0);
      breakIt(root);
      assert.equal(runDoctor(probeOf(root)).ok, true, `${id} as root`);
    }
  });

  it('what only turns a feature off warns without failing: /dev/net/tun, slirp4netns, CNI, delegation, old kernel without fuse-overlayfs; catatonit as root', () => {
    const root = fullHost(0);
    root.tools = root.tools.filter((t) => t !== 'catatonit');
    assert.equal(runDoctor(probeOf(root)).ok, true);
    assert.equal(row(runDoctor(probeOf(root)), 'rootful', 'catatonit').required, false);
    const h = fullHost(1000);
    h.rw = [];
    h.tools = h.tools.filter((t) => t !== 'slirp4netns');
    delete h.stats['/usr/lib/cni/portmap'];
    h.files['/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers'] = 'memory pids\n';
    h.kernel = '5.10.0-28-amd64';
    const r = runDoctor(probeOf(h));
    assert.equal(r.ok, true);
    const failing = r.checks.filter((c) => !c.ok && c.mode === 'rootless');
    assert.deepEqual(failing.map((c) => c.id).sort(), ['cgroup-delegation', 'cni-plugins', 'dev-net-tun', 'slirp4netns', 'userns-overlay']);
    assert.ok(failing.every((c) => !c.required && c.fix));
    assert.match(row(r, 'rootless', 'dev-net-tun').fix, /chmod 0666 \/dev\/net\/tun/);
    assert.match(row(r, 'rootless', 'cni-plugins').detail, /portmap/);
    assert.match(row(r, 'rootless', 'cgroup-delegation').detail, /cpu$/);
  });

  it('refuses a socket dir another user made for this user, and a world-connectable system socket', () => {
    const h = fullHost(1000);
    h.stats['/run/user/1000/gantry'] = { uid: 1001, gid: 1001, mode: 0o755, kind: 'dir' };
    const r = runDoctor(probeOf(h));
    assert.equal(r.ok, false);
    assert.match(row(r, 'rootless', 'user-socket').detail, /owned by uid 1001/);
    const root = fullHost(0);
    root.stats['/run/gantry/gantry.sock'] = { uid: 0, gid: 990, mode: 0o666, kind: 'socket' };
    assert.equal(runDoctor(probeOf(root)).ok, false);
  });

  it('names the group a user must join to use the system socket, and that it equals root', () => {
    const h = fullHost(1000);
    h.stats['/run/gantry/gantry.sock'] = { uid: 0, gid: 990, mode: 0o660, kind: 'socket' };
    const r = runDoctor(probeOf(h));
    const s = row(r, 'rootful', 'system-socket');
    assert.equal(s.ok, false);
    assert.match(s.detail, /group gantry \(its members are equivalent to root\); you may not use it/);
    assert.equal(s.fix, 'as root: usermod -aG gantry alice, then log in again');
    assert.equal(r.ok, true, 'the rootless verdict does not depend on it');
  });
});
