import { strict as assert } from 'node:assert';
import { isFailedPrecondition } from '../../../../runtime/errdefs/errdefs';
import type { ContainerConfig } from '../../../../runtime/containers/containers';
import { buildSpec } from '../../../../runtime/oci/specgen/build';
import { applyRootless, mappedFromZero } from '../../../../runtime/oci/specgen/rootless';
import { containerConfig } from '../../../helpers/containerConfig';

const ID = 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123';

function spec(over: Partial<ContainerConfig> = {}) {
  const config = containerConfig(over);
  const s = buildSpec({
    id: ID,
    config,
    image: { Cmd: ['sh'] },
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    rootfs: '/s/tasks/x/rootfs',
    etcFiles: { hosts: '/s/etc/hosts', resolvConf: '/s/etc/resolv.conf', hostname: '/s/etc/hostname' },
    cgroupsPath: `/gantry/${ID}`,
    nofileHardLimit: 20000,
  });
  return { s, config };
}

const mountAt = (s: ReturnType<typeof spec>['s'], destination: string) => s.mounts?.find((m) => m.destination === destination);

describe('oci/specgen/rootless', () => {
  it('drops the cgroups path and resources: runc then skips cgroups in the user namespace', () => {
    const { s, config } = spec({ network: 'none' });
    assert.ok(s.linux?.cgroupsPath && s.linux.resources);
    applyRootless(s, { config, cgroupV2: false, mappedGids: 65537 });
    assert.equal(s.linux?.cgroupsPath, undefined);
    assert.equal(s.linux?.resources, undefined);
  });

  it('refuses -m, --cpus and --pids-limit with the reason, naming each flag', () => {
    for (const [over, flag] of [
      [{ memoryBytes: 64 << 20 }, '-m/--memory'],
      [{ nanoCpus: 5e8 }, '--cpus'],
      [{ pidsLimit: 10 }, '--pids-limit'],
    ] as const) {
      const { s, config } = spec(over);
      assert.throws(
        () => applyRootless(s, { config, cgroupV2: false, mappedGids: 65537 }),
        (e: unknown) => isFailedPrecondition(e) && (e as Error).message.includes(flag) && /cgroup v1/.test((e as Error).message),
      );
      assert.throws(
        () => applyRootless(spec(over).s, { config, cgroupV2: true, mappedGids: 65537 }),
        (e: unknown) => isFailedPrecondition(e) && /delegated cgroup v2/.test((e as Error).message),
      );
    }
  });

  it('host network: /sys is a read-only rbind (sysfs belongs to the namespace owner); cgroup v1: /sys/fs/cgroup too', () => {
    const { s, config } = spec({ network: 'host' });
    applyRootless(s, { config, cgroupV2: false, mappedGids: 65537 });
    assert.deepEqual(mountAt(s, '/sys'), {
      destination: '/sys',
      type: 'bind',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    assert.equal(mountAt(s, '/sys/fs/cgroup')?.type, 'bind');
    const own = spec({ network: 'none' });
    applyRootless(own.s, { config: own.config, cgroupV2: true, mappedGids: 65537 });
    assert.equal(mountAt(own.s, '/sys')?.type, 'sysfs', 'a network namespace of its own mounts sysfs');
    assert.equal(mountAt(own.s, '/sys/fs/cgroup')?.type, 'cgroup');
  });

  it('ping_group_range names only the mapped gids', () => {
    const { s, config } = spec({ network: 'none' });
    applyRootless(s, { config, cgroupV2: false, mappedGids: 65537 });
    assert.equal(s.linux?.sysctl?.['net.ipv4.ping_group_range'], '0 65536');
  });

  it('mappedFromZero: contiguous IDs from 0 in a uid_map/gid_map', () => {
    assert.equal(mappedFromZero('         0       1001          1\n         1     165536      65536\n'), 65537);
    assert.equal(mappedFromZero('0 1001 1\n5 200000 10\n'), 1);
    assert.equal(mappedFromZero('1 100 10\n'), 0);
    assert.equal(mappedFromZero(''), 0);
  });
});
