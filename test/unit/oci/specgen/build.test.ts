import { strict as assert } from 'node:assert';
import { isInvalidArgument } from '../../../../runtime/errdefs/errdefs';
import type { ContainerConfig } from '../../../../runtime/containers/containers';
import type { ContainerConfig as ImageConfig } from '../../../../runtime/oci/manifest';
import {
  buildSpec,
  containerEnv,
  containerHostname,
  DEFAULT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
  resolveArgs,
  userSpecOf,
  type SpecInput,
} from '../../../../runtime/oci/specgen/build';
import { DEFAULT_CAPABILITIES } from '../../../../runtime/oci/specgen/capabilities';
import { containerConfig } from '../../../helpers/containerConfig';

const ID = 'f00dfeedcafe0123456789abcdef0123456789abcdef0123456789abcdef0123';

function config(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return containerConfig(over);
}

function input(over: Partial<ContainerConfig> = {}, image: ImageConfig = { Cmd: ['sh'] }, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: ID,
    config: config(over),
    image,
    user: { uid: 0, gid: 0, additionalGids: [], home: '/root' },
    rootfs: '/run/gantry/tasks/x/rootfs',
    etcFiles: { hosts: '/s/etc/hosts', resolvConf: '/s/etc/resolv.conf', hostname: '/s/etc/hostname' },
    cgroupsPath: `/gantry/${ID}`,
    nofileHardLimit: 20000,
    ...extra,
  };
}

const invalid = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => isInvalidArgument(e) && re.test((e as Error).message));

describe('oci/specgen/build', () => {
  describe('entrypoint and cmd (Docker merge rules)', () => {
    const img: ImageConfig = { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'] };
    const cases: [string, Pick<ContainerConfig, 'entrypoint' | 'cmd'>, ImageConfig, string[] | RegExp][] = [
      ['image entrypoint + image cmd', {}, img, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']],
      ['user cmd replaces image cmd, keeps entrypoint', { cmd: ['nginx-debug'] }, img, ['/docker-entrypoint.sh', 'nginx-debug']],
      ['empty user cmd keeps image cmd', { cmd: [] }, img, ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']],
      ['user entrypoint drops image cmd', { entrypoint: ['/bin/sh'] }, img, ['/bin/sh']],
      ['user entrypoint + user cmd', { entrypoint: ['/bin/sh'], cmd: ['-c', 'id'] }, img, ['/bin/sh', '-c', 'id']],
      ['entrypoint [] clears it, user cmd runs', { entrypoint: [], cmd: ['id'] }, img, ['id']],
      ['entrypoint [""] clears it too', { entrypoint: [''], cmd: ['id'] }, img, ['id']],
      ['entrypoint [] and no cmd: image cmd is not used', { entrypoint: [] }, img, /no command specified/],
      ['image with only cmd', {}, { Cmd: ['sh'] }, ['sh']],
      ['image with only entrypoint', {}, { Entrypoint: ['/init'] }, ['/init']],
      ['null entrypoint/cmd in the image', { cmd: ['true'] }, { Entrypoint: null, Cmd: null }, ['true']],
      ['nothing anywhere', {}, {}, /no command specified/],
    ];
    for (const [name, cfg, image, want] of cases) {
      it(name, () => {
        if (want instanceof RegExp) invalid(() => resolveArgs(cfg, image), want);
        else assert.deepEqual(resolveArgs(cfg, image), want);
      });
    }
    it('buildSpec puts the result in process.args and fails the same way', () => {
      assert.deepEqual(buildSpec(input({ cmd: ['echo', 'hi'] }, img)).process?.args, ['/docker-entrypoint.sh', 'echo', 'hi']);
      invalid(() => buildSpec(input({}, {})), /no command specified/);
    });
  });

  describe('environment', () => {
    const env = (over: Partial<Parameters<typeof containerEnv>[0]>) =>
      containerEnv({ image: [], user: [], hostname: 'h', tty: false, home: '/root', ...over });

    it('defaults PATH, sets HOSTNAME and HOME', () => {
      assert.deepEqual(env({}), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'HOME=/root']);
    });
    it('TERM=xterm only with a tty', () => {
      assert.ok(env({ tty: true }).includes('TERM=xterm'));
      assert.ok(!env({}).some((e) => e.startsWith('TERM=')));
    });
    it('image PATH replaces the default in place; user env overrides image env by key', () => {
      const out = env({ image: ['PATH=/opt/bin:/bin', 'A=image', 'B=image'], user: ['A=user', 'C=user'] });
      assert.deepEqual(out, ['PATH=/opt/bin:/bin', 'HOSTNAME=h', 'A=user', 'C=user', 'B=image', 'HOME=/root']);
    });
    it('values keep "=" and spaces verbatim', () => {
      assert.ok(env({ user: ['Q=a=b c '] }).includes('Q=a=b c '));
    });
    it('a bare KEY unsets it; HOME from the user wins over passwd', () => {
      const out = env({ image: ['A=1', 'B=2'], user: ['A', 'HOME=/home/x'] });
      assert.ok(!out.some((e) => e.startsWith('A=')));
      assert.ok(out.includes('B=2'));
      assert.ok(out.includes('HOME=/home/x'));
      assert.ok(!out.includes('HOME=/root'));
    });
    it('a repeated user key: the last value wins, once', () => {
      const out = env({ user: ['A=1', 'A=2'] });
      assert.deepEqual(
        out.filter((e) => e.startsWith('A=')),
        ['A=2'],
      );
    });
    it('user can override HOSTNAME and TERM', () => {
      const out = env({ tty: true, user: ['HOSTNAME=other', 'TERM=dumb'] });
      assert.ok(out.includes('HOSTNAME=other') && out.includes('TERM=dumb'));
      assert.equal(out.filter((e) => e.startsWith('TERM=')).length, 1);
    });
    it('refuses empty names', () => {
      invalid(() => env({ user: ['=x'] }), /name cannot be empty/);
    });
    it('buildSpec uses the hostname in HOSTNAME', () => {
      const spec = buildSpec(input({ hostname: 'web-1', env: ['X=1'] }, { Cmd: ['sh'], Env: ['Y=2'] }));
      assert.ok(spec.process?.env?.includes('HOSTNAME=web-1'));
      assert.ok(spec.process?.env?.includes('X=1') && spec.process?.env?.includes('Y=2'));
    });
  });

  describe('user, cwd, hostname', () => {
    it("user: the container's, else the image's", () => {
      assert.equal(userSpecOf({ user: 'app' }, { User: 'nobody' }), 'app');
      assert.equal(userSpecOf({}, { User: 'nobody' }), 'nobody');
      assert.equal(userSpecOf({ user: '' }, { User: '1000:1000' }), '1000:1000');
      assert.equal(userSpecOf({}, {}), '');
    });
    it('process.user carries the primary gid first in additionalGids, without duplicates', () => {
      const spec = buildSpec(input({}, { Cmd: ['sh'] }, { user: { uid: 1000, gid: 100, additionalGids: [10, 100, 20], home: '/home/a' } }));
      assert.deepEqual(spec.process?.user, { uid: 1000, gid: 100, additionalGids: [100, 10, 20] });
      assert.ok(spec.process?.env?.includes('HOME=/home/a'));
    });
    it('cwd: config, else image, else /; normalised; relative refused', () => {
      assert.equal(buildSpec(input({ workingDir: '/srv/app/' }, { Cmd: ['sh'], WorkingDir: '/x' })).process?.cwd, '/srv/app');
      assert.equal(buildSpec(input({}, { Cmd: ['sh'], WorkingDir: '/x' })).process?.cwd, '/x');
      assert.equal(buildSpec(input()).process?.cwd, '/');
      invalid(() => buildSpec(input({ workingDir: 'rel/dir' })), /working directory 'rel\/dir' is invalid/);
      invalid(() => buildSpec(input({}, { Cmd: ['sh'], WorkingDir: 'app' })), /absolute path/);
    });
    it("hostname: given, else 12 characters of the ID; with host network the host's name", () => {
      assert.equal(containerHostname(ID, { network: 'none' }), ID.slice(0, 12));
      assert.equal(containerHostname(ID, { network: 'none', hostname: 'db' }), 'db');
      assert.equal(containerHostname(ID, { network: 'host' }, 'myhost'), 'myhost');
      assert.equal(containerHostname(ID, { network: 'host', hostname: 'db' }, 'myhost'), 'db');
      assert.equal(buildSpec(input()).hostname, ID.slice(0, 12));
      invalid(() => containerHostname(ID, { network: 'none', hostname: 'bad\nname' }), /invalid hostname/);
    });
  });

  describe('capabilities', () => {
    it("Docker's defaults in bounding, effective and permitted; none inheritable or ambient", () => {
      const caps = buildSpec(input()).process?.capabilities;
      assert.deepEqual(caps?.bounding, [...DEFAULT_CAPABILITIES]);
      assert.deepEqual(caps?.effective, [...DEFAULT_CAPABILITIES]);
      assert.deepEqual(caps?.permitted, [...DEFAULT_CAPABILITIES]);
      assert.equal(caps?.inheritable, undefined);
      assert.equal(caps?.ambient, undefined);
      assert.equal(DEFAULT_CAPABILITIES.length, 14);
    });
    it('cap-add/cap-drop apply to every set', () => {
      const caps = buildSpec(input({ capAdd: ['net_admin'], capDrop: ['CAP_NET_RAW'] })).process?.capabilities;
      for (const set of [caps?.bounding, caps?.effective, caps?.permitted]) {
        assert.ok(set?.includes('CAP_NET_ADMIN'));
        assert.ok(!set?.includes('CAP_NET_RAW'));
      }
    });
    it('unknown capability is InvalidArgument naming it', () => {
      invalid(() => buildSpec(input({ capAdd: ['FLY'] })), /unknown capability: "FLY"/);
    });
  });

  describe('namespaces, mounts, paths', () => {
    it('network none: every namespace Docker makes, and the network sysctls', () => {
      const spec = buildSpec(input());
      assert.deepEqual(
        spec.linux?.namespaces?.map((n) => n.type),
        ['mount', 'network', 'uts', 'pid', 'ipc'],
      );
      assert.equal(spec.linux?.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '0');
    });
    it('network host: no network namespace, UTS still private, no sysctls', () => {
      const spec = buildSpec(input({ network: 'host' }, { Cmd: ['sh'] }, { hostHostname: 'myhost' }));
      assert.deepEqual(
        spec.linux?.namespaces?.map((n) => n.type),
        ['mount', 'uts', 'pid', 'ipc'],
      );
      assert.equal(spec.hostname, 'myhost');
      assert.deepEqual(spec.linux?.sysctl, {});
    });
    it('IPC, PID and UTS modes: container: joins the given paths, host drops the namespace (and the hostname with UTS)', () => {
      const joined = buildSpec(
        input(
          { network: 'container:abc', ipcMode: 'container:abc', pidMode: 'container:abc', utsMode: 'container:abc', hostname: 'pod' },
          { Cmd: ['sh'] },
          {
            netnsPath: '/proc/7/ns/net',
            namespacePaths: { ipc: '/proc/7/ns/ipc', pid: '/proc/7/ns/pid', uts: '/proc/7/ns/uts' },
          },
        ),
      );
      assert.deepEqual(joined.linux?.namespaces, [
        { type: 'mount' },
        { type: 'network', path: '/proc/7/ns/net' },
        { type: 'uts', path: '/proc/7/ns/uts' },
        { type: 'pid', path: '/proc/7/ns/pid' },
        { type: 'ipc', path: '/proc/7/ns/ipc' },
      ]);
      assert.equal(joined.hostname, 'pod');
      const host = buildSpec(input({ network: 'host', ipcMode: 'host', pidMode: 'host', utsMode: 'host' }));
      assert.deepEqual(
        host.linux?.namespaces?.map((n) => n.type),
        ['mount'],
      );
      assert.equal(host.hostname, undefined);
    });
    it('bind mount propagation: rprivate unless the mount asks for rslave or rshared', () => {
      const spec = buildSpec(
        input({
          mounts: [
            { source: '/a', destination: '/a', readOnly: false },
            { source: '/b', destination: '/b', readOnly: true, propagation: 'rslave' },
            { source: '/c', destination: '/c', readOnly: false, propagation: 'rshared' },
          ],
        }),
      );
      const opts = (d: string) => spec.mounts?.find((m) => m.destination === d)?.options;
      assert.deepEqual(opts('/a'), ['rbind', 'rprivate']);
      assert.deepEqual(opts('/b'), ['rbind', 'ro', 'rslave']);
      assert.deepEqual(opts('/c'), ['rbind', 'rshared']);
    });
    it("the root mount's propagation follows the widest bind mount: rshared, else rslave, else runc's default", () => {
      const bind = (propagation?: 'rprivate' | 'rslave' | 'rshared') => ({ source: '/x', destination: '/x', readOnly: false, propagation });
      assert.equal(buildSpec(input({ mounts: [bind('rslave')] })).linux?.rootfsPropagation, 'rslave');
      assert.equal(buildSpec(input({ mounts: [bind('rshared')] })).linux?.rootfsPropagation, 'rshared');
      assert.equal(buildSpec(input({ mounts: [bind('rprivate')] })).linux?.rootfsPropagation, undefined);
      assert.equal(buildSpec(input()).linux?.rootfsPropagation, undefined);
    });
    it("masked and read-only paths are Docker's", () => {
      const spec = buildSpec(input());
      for (const p of [
        '/proc/acpi',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
        '/sys/devices/virtual/powercap',
      ]) {
        assert.ok(spec.linux?.maskedPaths?.includes(p), p);
      }
      assert.deepEqual(spec.linux?.maskedPaths, [...MASKED_PATHS]);
      assert.deepEqual(spec.linux?.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
      assert.deepEqual(spec.linux?.readonlyPaths, [...READONLY_PATHS]);
    });
    it('masked and read-only paths set in the config replace the defaults; empty lists keep them', () => {
      const spec = buildSpec(input({ maskedPaths: ['/proc/version'], readonlyPaths: ['/etc'] }));
      assert.deepEqual(spec.linux?.maskedPaths, ['/proc/version']);
      assert.deepEqual(spec.linux?.readonlyPaths, ['/etc']);
      const kept = buildSpec(input({ maskedPaths: [], readonlyPaths: [] }));
      assert.deepEqual(kept.linux?.maskedPaths, [...MASKED_PATHS]);
      assert.deepEqual(kept.linux?.readonlyPaths, [...READONLY_PATHS]);
    });
    it('sysctls of the config go over the network defaults', () => {
      const spec = buildSpec(input({ sysctls: { 'kernel.shmmax': '1000000', 'net.ipv4.ip_unprivileged_port_start': '1024' } }));
      assert.equal(spec.linux?.sysctl?.['kernel.shmmax'], '1000000');
      assert.equal(spec.linux?.sysctl?.['net.ipv4.ip_unprivileged_port_start'], '1024');
      assert.equal(spec.linux?.sysctl?.['net.ipv4.ping_group_range'], '0 2147483647');
    });
    it('supplemental groups: the primary gid first, then the resolved ones', () => {
      const spec = buildSpec(input({}, { Cmd: ['sh'] }, { user: { uid: 1000, gid: 1000, additionalGids: [10, 1234], home: '/' } }));
      assert.deepEqual(spec.process?.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 1234] });
    });
    it('root, cgroups path, terminal, no new privileges off', () => {
      const spec = buildSpec(input({ readOnlyRootfs: true, tty: true }));
      assert.deepEqual(spec.root, { path: '/run/gantry/tasks/x/rootfs', readonly: true });
      assert.equal(spec.linux?.cgroupsPath, `/gantry/${ID}`);
      assert.equal(spec.process?.terminal, true);
      assert.equal(spec.process?.noNewPrivileges, false);
      assert.equal(spec.process?.oomScoreAdj, undefined);
      assert.equal(spec.annotations, undefined);
    });
    it('mounts include the generated /etc files and user mounts', () => {
      const spec = buildSpec(input({ mounts: [{ source: '/data', destination: '/data', readOnly: true }] }));
      const byDest = new Map(spec.mounts?.map((m) => [m.destination, m]));
      assert.equal(byDest.get('/etc/hosts')?.source, '/s/etc/hosts');
      assert.equal(byDest.get('/etc/resolv.conf')?.source, '/s/etc/resolv.conf');
      assert.equal(byDest.get('/etc/hostname')?.source, '/s/etc/hostname');
      assert.deepEqual(byDest.get('/data')?.options, ['rbind', 'ro', 'rprivate']);
    });
  });

  describe('resources and rlimits', () => {
    it('no limits: only the device rules', () => {
      const r = buildSpec(input()).linux?.resources;
      assert.equal(r?.memory, undefined);
      assert.equal(r?.cpu, undefined);
      assert.equal(r?.pids, undefined);
      assert.deepEqual(r?.devices?.[0], { allow: false, access: 'rwm' });
    });
    it('device allow list: null, zero, full, random, urandom, tty, console, ptmx, pts', () => {
      const allowed = buildSpec(input())
        .linux?.resources?.devices?.filter((d) => d.allow)
        .map((d) => `${d.type} ${d.major}:${d.minor ?? '*'}`);
      assert.deepEqual(new Set(allowed), new Set(['c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*']));
    });
    it('memory, cpus and pids limits', () => {
      const r = buildSpec(input({ memoryBytes: 512 * 1024 * 1024, nanoCpus: 1_500_000_000, pidsLimit: 100 })).linux?.resources;
      assert.deepEqual(r?.memory, { limit: 512 * 1024 * 1024 });
      assert.deepEqual(r?.cpu, { quota: 150_000, period: 100_000 });
      assert.deepEqual(r?.pids, { limit: 100 });
    });
    it('memory+swap is twice the limit when the host accounts swap (Docker default)', () => {
      const r = buildSpec(input({ memoryBytes: 64 * 1024 * 1024 }, { Cmd: ['sh'] }, { swapAccounting: true })).linux?.resources;
      assert.deepEqual(r?.memory, { limit: 64 * 1024 * 1024, swap: 128 * 1024 * 1024 });
    });
    it("the CRI's exact cgroup resources go over those made from the Docker-style limits", () => {
      const r = buildSpec(
        input({
          memoryBytes: 64 * 1024 * 1024,
          nanoCpus: 500_000_000,
          cgroupResources: {
            cpu: { quota: 25_000, period: 50_000, shares: 512, cpus: '0' },
            hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
            unified: { 'memory.high': '1000000' },
          },
        }),
      ).linux?.resources;
      assert.deepEqual(r?.memory, { limit: 64 * 1024 * 1024 });
      assert.deepEqual(r?.cpu, { quota: 25_000, period: 50_000, shares: 512, cpus: '0' });
      assert.deepEqual(r?.hugepageLimits, [{ pageSize: '2MB', limit: 0 }]);
      assert.deepEqual(r?.unified, { 'memory.high': '1000000' });
    });
    it('refuses limits the kernel or Docker would refuse', () => {
      invalid(() => buildSpec(input({ memoryBytes: 1024 * 1024 })), /minimum memory limit allowed is 6MB/);
      invalid(() => buildSpec(input({ memoryBytes: -1 })), /invalid memory limit/);
      invalid(() => buildSpec(input({ nanoCpus: 5_000_000 })), /too small/);
      assert.deepEqual(buildSpec(input({ nanoCpus: 10_000_000 })).linux?.resources?.cpu, { quota: 1000, period: 100_000 });
    });
    it('RLIMIT_NOFILE is clamped to the host hard limit', () => {
      assert.deepEqual(buildSpec(input()).process?.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
      const big = buildSpec(input({}, { Cmd: ['sh'] }, { nofileHardLimit: 4_000_000 })).process?.rlimits;
      assert.deepEqual(big, [{ type: 'RLIMIT_NOFILE', hard: 1_048_576, soft: 1_048_576 }]);
      const inf = buildSpec(input({}, { Cmd: ['sh'] }, { nofileHardLimit: Infinity })).process?.rlimits;
      assert.equal(inf?.[0].hard, 1_048_576);
      const small = buildSpec(input({}, { Cmd: ['sh'] }, { nofileHardLimit: 1024 })).process?.rlimits;
      assert.deepEqual(small, [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]);
    });
    it('the spec survives a JSON round trip unchanged (what tasks/ writes)', () => {
      const spec = buildSpec(input({ memoryBytes: 64 * 1024 * 1024, tmpfs: [{ destination: '/run', options: ['size=1m'] }] }));
      assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
    });
  });
});
