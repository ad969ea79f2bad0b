import { strict as assert } from 'node:assert';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from '../../../../runtime/oci/specgen/capabilities';
import type { ContainerConfig } from '../../../../runtime/containers/containers';
import {
  applyPrivileges,
  effectiveCgroupns,
  parseCgroupns,
  parseDevice,
  type PrivilegeInput,
} from '../../../../runtime/oci/specgen/privileges';
import { buildSpec, MASKED_PATHS } from '../../../../runtime/oci/specgen/build';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import type { Spec } from '../../../../runtime/oci/spec';
import { containerConfig } from '../../../helpers/containerConfig';

const ID = 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123';

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return containerConfig({ cmd: ['sh'], ...over });
}

function spec(over: Partial<ContainerConfig> = {}, extra: Partial<PrivilegeInput> = {}): Spec {
  const c = config(over);
  const s = buildSpec({
    id: ID,
    config: c,
    image: {},
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    rootfs: '/r',
    etcFiles: { hosts: '/s/hosts', resolvConf: '/s/resolv.conf', hostname: '/s/hostname' },
    cgroupsPath: `/gantry/${ID}`,
    nofileHardLimit: 1024,
  });
  return applyPrivileges(s, { config: c, hostDevices: [], devices: [], cgroupV2: false, ...extra });
}

const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message));

describe('oci/specgen/privileges', () => {
  describe("parseDevice (Docker's --device forms)", () => {
    const cases: [string, [string, string, string]][] = [
      ['/dev/fuse', ['/dev/fuse', '/dev/fuse', 'rwm']],
      ['/dev/null:/dev/mynull', ['/dev/null', '/dev/mynull', 'rwm']],
      ['/dev/null:/dev/mynull:rw', ['/dev/null', '/dev/mynull', 'rw']],
      ['/dev/sda:r', ['/dev/sda', '/dev/sda', 'r']],
      ['/dev/sda:mr', ['/dev/sda', '/dev/sda', 'mr']],
    ];
    for (const [input, [host, ctr, perms]] of cases) {
      it(input, () => assert.deepEqual(parseDevice(input), { pathOnHost: host, pathInContainer: ctr, cgroupPermissions: perms }));
    }
    it('refuses relative paths, bad modes, too many fields and empty parts, quoting the value', () => {
      invalid(() => parseDevice('dev/null'), /"dev\/null" is not an absolute path/);
      invalid(() => parseDevice('/dev/null:dev/x'), /"dev\/x" is not an absolute path/);
      invalid(() => parseDevice('/dev/null:/dev/x:rwx'), /bad mode "rwx"/);
      invalid(() => parseDevice('/dev/null:/dev/x:rr'), /bad mode "rr"/);
      invalid(() => parseDevice('/dev/null:/dev/x:'), /bad mode ""/);
      invalid(() => parseDevice('/a:/b:r:w'), /invalid device specification: "\/a:\/b:r:w"/);
      invalid(() => parseDevice(''), /invalid device specification/);
      invalid(() => parseDevice(':/dev/x'), /invalid device specification/);
      invalid(() => parseDevice('/dev/null::rw'), /empty container path/);
    });
  });

  it('parseCgroupns and the defaults per cgroup version', () => {
    assert.equal(parseCgroupns('host'), 'host');
    assert.equal(parseCgroupns('private'), 'private');
    invalid(() => parseCgroupns('shared'), /invalid --cgroupns value "shared": want host or private/);
    assert.equal(effectiveCgroupns({}, true), 'private');
    assert.equal(effectiveCgroupns({}, false), 'host');
    assert.equal(effectiveCgroupns({ cgroupns: 'host' }, true), 'host');
    assert.equal(effectiveCgroupns({ cgroupns: 'private' }, false), 'private');
  });

  describe('applyPrivileges', () => {
    it('leaves the default spec alone on cgroup v1 without remapping', () => {
      const s = spec();
      assert.deepEqual(s.process?.capabilities?.effective, [...DEFAULT_CAPABILITIES]);
      assert.deepEqual(s.linux?.maskedPaths, [...MASKED_PATHS]);
      assert.ok(!s.linux?.namespaces?.some((n) => n.type === 'cgroup' || n.type === 'user'));
      assert.equal(s.linux?.devices, undefined);
    });

    it('privileged: all available capabilities whatever cap-drop says, host devices, allow-all cgroup, nothing masked, /sys rw, no seccomp/apparmor', () => {
      const base = spec();
      Object.assign(base.process!, { apparmorProfile: 'docker-default' });
      const c = config({ privileged: true, capDrop: ['ALL'] });
      const hostDev = { path: '/dev/loop0', type: 'b', major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 };
      const s = applyPrivileges(base, {
        config: c,
        hostDevices: [hostDev],
        devices: [],
        cgroupV2: false,
        hostCapabilities: ALL_CAPABILITIES.filter((x) => x !== 'CAP_SYS_RESOURCE'),
      });
      assert.equal(s.process?.capabilities?.effective?.length, ALL_CAPABILITIES.length - 1);
      assert.ok(!s.process?.capabilities?.bounding?.includes('CAP_SYS_RESOURCE'));
      assert.equal(s.process?.apparmorProfile, undefined);
      assert.deepEqual(s.linux?.maskedPaths, []);
      assert.deepEqual(s.linux?.readonlyPaths, []);
      assert.deepEqual(s.linux?.resources?.devices, [{ allow: true, access: 'rwm' }]);
      assert.deepEqual(s.linux?.devices, [hostDev]);
      for (const dest of ['/sys', '/sys/fs/cgroup'])
        assert.ok(!s.mounts?.find((m) => m.destination === dest)?.options?.includes('ro'), dest);
    });

    it('privileged with a read-only rootfs keeps /sys read-only (Docker)', () => {
      const s = spec({ privileged: true, readOnlyRootfs: true });
      assert.ok(s.mounts?.find((m) => m.destination === '/sys')?.options?.includes('ro'));
    });

    it('--device: the node, and an allow rule after the defaults (so it beats their deny of FUSE)', () => {
      const fuse = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };
      const s = spec({}, { devices: [{ device: fuse, permissions: 'rw' }] });
      assert.deepEqual(s.linux?.devices, [fuse]);
      const rules = s.linux?.resources?.devices ?? [];
      assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
      assert.deepEqual(rules.at(-1), { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' });
    });

    it('cgroupns private adds a cgroup namespace; v2 does by default', () => {
      assert.ok(spec({ cgroupns: 'private' }).linux?.namespaces?.some((n) => n.type === 'cgroup'));
      assert.ok(spec({}, { cgroupV2: true }).linux?.namespaces?.some((n) => n.type === 'cgroup'));
      assert.ok(!spec({ cgroupns: 'host' }, { cgroupV2: true }).linux?.namespaces?.some((n) => n.type === 'cgroup'));
    });

    it('userns remap: a user namespace, the mappings, ping_group_range inside the range', () => {
      const s = spec({}, { idMap: { uid: 100000, gid: 200000, size: 65536 } });
      assert.ok(s.linux?.namespaces?.some((n) => n.type === 'user'));
      assert.deepEqual(s.linux?.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
      assert.deepEqual(s.linux?.gidMappings, [{ containerID: 0, hostID: 200000, size: 65536 }]);
      assert.equal(s.linux?.sysctl?.['net.ipv4.ping_group_range'], '0 65535');
    });

    it('userns remap refuses --privileged', () => {
      assert.throws(
        () => spec({ privileged: true }, { idMap: { uid: 100000, gid: 100000, size: 65536 } }),
        (e: unknown) => isInvalidArgument(e) && /incompatible/.test((e as Error).message),
      );
    });
  });
});
