import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import { containerMounts, defaultMounts, tmpfsOptions, type EtcFilePaths } from '../../../../runtime/oci/specgen/mounts';
import type { Mount } from '../../../../runtime/oci/spec';

const ETC: EtcFilePaths = { hosts: '/s/hosts', resolvConf: '/s/resolv.conf', hostname: '/s/hostname' };
const dests = (ms: Mount[]) => ms.map((m) => m.destination);
const find = (ms: Mount[], d: string) => ms.find((m) => m.destination === d);
const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message));

describe('oci/specgen/mounts', () => {
  it("Docker's default filesystems, parents first, /dev/shm 64 MiB", () => {
    const ms = containerMounts([], [], ETC, false);
    assert.deepEqual(dests(ms), [
      '/proc',
      '/dev',
      '/dev/pts',
      '/sys',
      '/sys/fs/cgroup',
      '/dev/mqueue',
      '/dev/shm',
      '/etc/resolv.conf',
      '/etc/hostname',
      '/etc/hosts',
    ]);
    assert.deepEqual(find(ms, '/proc'), { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
    assert.deepEqual(find(ms, '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'ro']);
    assert.ok(find(ms, '/sys/fs/cgroup')?.options?.includes('ro'));
    assert.equal(find(ms, '/dev/mqueue')?.type, 'mqueue');
    assert.deepEqual(find(ms, '/dev/shm')?.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']);
    assert.equal(find(ms, '/dev/pts')?.type, 'devpts');
  });

  it('generated /etc files are rbind+rprivate, read-only with a read-only rootfs', () => {
    const rw = containerMounts([], [], ETC, false);
    assert.deepEqual(find(rw, '/etc/hosts'), {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/s/hosts',
      options: ['rbind', 'rprivate'],
    });
    const ro = containerMounts([], [], ETC, true);
    assert.deepEqual(find(ro, '/etc/hostname')?.options, ['rbind', 'rprivate', 'ro']);
    assert.deepEqual(find(ro, '/etc/resolv.conf')?.source, '/s/resolv.conf');
  });

  it('read-only rootfs: ro on defaults except the scratch filesystems', () => {
    const ms = containerMounts([], [], ETC, true);
    for (const d of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']) assert.ok(!find(ms, d)?.options?.includes('ro'), d);
    for (const d of ['/sys', '/sys/fs/cgroup']) assert.equal(find(ms, d)?.options?.filter((o) => o === 'ro').length, 1, d);
  });

  it('user binds: rbind, ro when asked, rprivate; paths cleaned', () => {
    const ms = containerMounts(
      [
        { source: '/host/a/', destination: '/data/', readOnly: true },
        { source: '/host/b', destination: '/b', readOnly: false },
      ],
      [],
      ETC,
      false,
    );
    assert.deepEqual(find(ms, '/data'), { destination: '/data', type: 'bind', source: '/host/a', options: ['rbind', 'ro', 'rprivate'] });
    assert.deepEqual(find(ms, '/b')?.options, ['rbind', 'rprivate']);
  });

  it('container mounts are sorted by depth, stable, after the defaults', () => {
    const ms = containerMounts(
      [
        { source: '/h/1', destination: '/a/b/c', readOnly: false },
        { source: '/h/2', destination: '/a', readOnly: false },
        { source: '/h/3', destination: '/z', readOnly: false },
      ],
      [{ destination: '/a/b', options: [] }],
      ETC,
      false,
    );
    const user = dests(ms).slice(7);
    // Same depth keeps the given order: binds, then tmpfs, then the generated files.
    assert.deepEqual(user, ['/a', '/z', '/a/b', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts', '/a/b/c']);
    // Whatever the order, a parent is always mounted before its children.
    const all = dests(ms);
    all.forEach((d, i) => all.slice(i + 1).forEach((later) => assert.ok(!d.startsWith(`${later}/`), `${later} after ${d}`)));
  });

  it('a user mount replaces the default or generated one at the same place', () => {
    const ms = containerMounts(
      [{ source: '/h/hosts', destination: '/etc/hosts', readOnly: true }],
      [{ destination: '/dev/shm', options: ['size=1g'] }],
      ETC,
      false,
    );
    assert.equal(ms.filter((m) => m.destination === '/etc/hosts').length, 1);
    assert.equal(find(ms, '/etc/hosts')?.source, '/h/hosts');
    assert.equal(ms.filter((m) => m.destination === '/dev/shm').length, 1);
    assert.ok(find(ms, '/dev/shm')?.options?.includes('size=1g'));
  });

  it('a user /dev drops every default under /dev', () => {
    const ms = containerMounts([{ source: '/dev', destination: '/dev', readOnly: false }], [], ETC, false);
    assert.deepEqual(
      dests(ms).filter((d) => d.startsWith('/dev')),
      ['/dev'],
    );
    assert.equal(find(ms, '/dev')?.type, 'bind');
  });

  it('refuses bad destinations, relative sources and duplicates', () => {
    invalid(() => containerMounts([{ source: '/h', destination: 'rel', readOnly: false }], [], ETC, false), /not an absolute path/);
    invalid(() => containerMounts([{ source: '/h', destination: '/', readOnly: false }], [], ETC, false), /can't be '\/'/);
    invalid(() => containerMounts([{ source: 'h', destination: '/x', readOnly: false }], [], ETC, false), /source must be an absolute/);
    invalid(
      () => containerMounts([{ source: '/h', destination: '/x', readOnly: false }], [{ destination: '/x/', options: [] }], ETC, false),
      /duplicate mount point: \/x/,
    );
  });

  describe('tmpfs options', () => {
    it("Docker's defaults: noexec, nosuid, nodev, rprivate", () => {
      assert.deepEqual(tmpfsOptions([]), ['noexec', 'nosuid', 'nodev', 'rprivate']);
      const ms = containerMounts([], [{ destination: '/run', options: ['size=64m', 'mode=1777'] }], ETC, false);
      assert.deepEqual(find(ms, '/run'), {
        destination: '/run',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=64m', 'mode=1777'],
      });
    });
    it('user options override the defaults; the last of a kind wins', () => {
      assert.deepEqual(tmpfsOptions(['exec']), ['nosuid', 'nodev', 'rprivate', 'exec']);
      assert.deepEqual(tmpfsOptions(['size=1m', 'ro', 'size=2m']), ['noexec', 'nosuid', 'nodev', 'rprivate', 'ro', 'size=2m']);
      assert.deepEqual(tmpfsOptions(['defaults', 'shared']), ['noexec', 'nosuid', 'nodev', 'shared']);
    });
    it("accepts the kernel's size forms, refuses the rest naming it", () => {
      for (const ok of ['size=65536k', 'size=64m', 'size=1G', 'size=50%', 'size=1024', 'mode=700', 'uid=1000', 'nr_inodes=10k']) {
        assert.doesNotThrow(() => tmpfsOptions([ok]), ok);
      }
      for (const bad of ['size=lots', 'size=', 'mode=999', 'uid=-1', 'bogus', 'rbind', 'size=1m,uid=0', 'mode']) {
        assert.throws(
          () => tmpfsOptions([bad]),
          (e: unknown) => isInvalidArgument(e) && (e as Error).message.includes(JSON.stringify(bad)),
          bad,
        );
      }
    });
  });

  it('defaultMounts returns fresh objects', () => {
    const a = defaultMounts();
    a[0].options?.push('x');
    assert.ok(!defaultMounts()[0].options?.includes('x'));
  });
});
