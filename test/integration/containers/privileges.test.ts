// Privilege options through the real daemon, runc and conmon: --privileged,
// --device, --cap-drop ALL, --cgroupns, and inspect's HostConfig part.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { DEFAULT_CAPABILITIES } from '../../../runtime/oci/specgen/capabilities';
import { hostDevices } from '../../../runtime/oci/specgen/hostdevices';
import { suiteCleanup } from '../../helpers/tmp';
import { containerWorld, runAttached, type ContainerWorld } from './harness';
import { capMask, fields } from './privilegesHelpers';

const capBnd = () => /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];

describe('containers: privileges (--privileged, --device, --cgroupns)', function () {
  this.timeout(120_000);
  const cleanup = suiteCleanup();
  let world: ContainerWorld;

  before(async () => {
    world = await containerWorld(cleanup);
  });
  afterEach(() => world.daemon.removeAllContainers());

  const run = (config: Parameters<typeof runAttached>[1] extends infer C ? Omit<C, 'image'> : never) =>
    runAttached(world.client, { image: world.image, ...config });

  it('--privileged: every capability the daemon holds, mount works, /sys is writable, nothing masked, host devices present', async () => {
    // A host device Docker's default set does not pass (a loop or tty node, kmsg …).
    const extra = hostDevices().find(
      (d) => !['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/ptmx'].includes(d.path),
    );
    assert.ok(extra, 'the host has a device node beyond the default set');
    const script = [
      'echo "CAPEFF=$(grep CapEff /proc/self/status | cut -f2)"',
      'echo "SECCOMP=$(grep ^Seccomp: /proc/self/status | cut -f2)"',
      'mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && echo MOUNT=ok',
      'echo "SYS=$(grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1)"',
      'echo "KCORE=$(grep -c " /proc/kcore " /proc/mounts)"',
      `[ -e ${extra.path} ] && echo EXTRA=present`,
      'true',
    ].join('; ');
    const r = await run({ privileged: true, cmd: ['sh', '-c', script] });
    assert.equal(r.exitCode, 0, r.stderr);
    const f = fields(r.stdout);
    assert.equal(f.get('CAPEFF'), capBnd());
    assert.equal(f.get('SECCOMP'), '0', 'no seccomp filter under --privileged');
    assert.equal(f.get('MOUNT'), 'ok', r.stderr);
    assert.equal(f.get('SYS'), 'rw');
    assert.equal(f.get('KCORE'), '0');
    assert.equal(f.get('EXTRA'), 'present', `${extra.path} missing`);

    const details = await world.client.containers.inspect(r.container.id);
    assert.equal(details.config?.privileged, true);
    assert.ok(details.capabilities.includes('CAP_SYS_ADMIN'));
  });

  it('without --privileged: the default capabilities, no mount, /sys read-only, masked paths, no extra devices', async () => {
    const r = await run({
      cmd: [
        'sh',
        '-c',
        'echo "CAPEFF=$(grep CapEff /proc/self/status | cut -f2)"; echo "SECCOMP=$(grep ^Seccomp: /proc/self/status | cut -f2)"; mkdir -p /mnt/t; mount -t tmpfs none /mnt/t 2>/dev/null && echo MOUNT=ok || echo MOUNT=refused; echo "SYS=$(grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1)"; echo "DEVS=$(ls /dev | wc -l)"',
      ],
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const f = fields(r.stdout);
    assert.equal(f.get('CAPEFF'), capMask(DEFAULT_CAPABILITIES));
    assert.equal(f.get('SECCOMP'), '2', 'the default seccomp filter');
    assert.equal(f.get('MOUNT'), 'refused');
    assert.equal(f.get('SYS'), 'ro');
    assert.ok(Number(f.get('DEVS')) < 20, r.stdout);
  });

  it('--cap-drop ALL leaves no capability; with --cap-add the one added', async () => {
    const none = await run({ capDrop: ['ALL'], cmd: ['sh', '-c', 'grep CapEff /proc/self/status | cut -f2'] });
    assert.equal(none.exitCode, 0, none.stderr);
    assert.equal(none.stdout.trim(), '0000000000000000');
    const one = await run({ capDrop: ['ALL'], capAdd: ['chown'], cmd: ['sh', '-c', 'grep CapEff /proc/self/status | cut -f2'] });
    assert.equal(one.stdout.trim(), capMask(['CAP_CHOWN']));
  });

  it('--device /dev/null:/dev/mynull is made and usable; a node that was not passed cannot be opened', async () => {
    const r = await run({
      devices: [{ pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', cgroupPermissions: 'rwm' }],
      cmd: [
        'sh',
        '-c',
        [
          'ls -l /dev/mynull',
          'echo hi > /dev/mynull && echo WRITE=ok',
          // /dev/kmsg (1:11) is not in the allowed set: the node can be made (CAP_MKNOD) but not opened.
          'mknod /tmp/kmsg c 1 11 && (head -c1 /tmp/kmsg >/dev/null 2>&1 && echo KMSG=opened || echo KMSG=denied)',
        ].join('; '),
      ],
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const f = fields(r.stdout);
    assert.match(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/mynull$/m);
    assert.equal(f.get('WRITE'), 'ok');
    assert.equal(f.get('KMSG'), 'denied');

    const details = await world.client.containers.inspect(r.container.id);
    assert.deepEqual(details.config?.devices, [{ pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', cgroupPermissions: 'rwm' }]);
    const spec = JSON.parse(details.specJson) as {
      linux: { resources: { devices: { allow: boolean; major?: number; minor?: number; access?: string }[] } };
    };
    assert.deepEqual(spec.linux.resources.devices.at(-1), { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  });

  it('--device with r permission: the node opens for reading, not for writing (the device cgroup)', async () => {
    // /dev/fuse (10:229) is denied by the default rules; opening it touches nothing on the host.
    const r = await run({
      devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '/dev/myfuse', cgroupPermissions: 'r' }],
      cmd: [
        'sh',
        '-c',
        '(exec 3</dev/myfuse) 2>/dev/null && echo READ=ok || echo READ=denied; (exec 3>/dev/myfuse) 2>/dev/null && echo WRITE=ok || echo WRITE=denied',
      ],
    });
    assert.equal(r.exitCode, 0, r.stderr);
    const f = fields(r.stdout);
    assert.equal(f.get('READ'), 'ok');
    assert.equal(f.get('WRITE'), 'denied');
  });

  it('--device of a path that is not a device is refused at create, naming it', async () => {
    await assert.rejects(
      world.client.containers.create('', {
        image: world.image,
        devices: [{ pathOnHost: '/etc/hostname', pathInContainer: '/dev/x', cgroupPermissions: 'rwm' }],
      }),
      (e: Error) => /not a device node/.test(e.message) && /\/etc\/hostname/.test(e.message),
    );
    await assert.rejects(
      world.client.containers.create('', {
        image: world.image,
        devices: [{ pathOnHost: '/dev/nonexistent-gantry', pathInContainer: '', cgroupPermissions: '' }],
      }),
      /nonexistent-gantry.*ENOENT/,
    );
  });

  it('--cgroupns private: /proc/self/cgroup paths are rooted at /; host: the host paths (the default on cgroup v1)', async () => {
    const cmd = ['cat', '/proc/self/cgroup'];
    const priv = await run({ cgroupns: 'private', cmd });
    assert.equal(priv.exitCode, 0, priv.stderr);
    const lines = priv.stdout.trim().split('\n');
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /:\/$/, priv.stdout);

    const host = await run({ cgroupns: 'host', cmd });
    assert.equal(host.exitCode, 0, host.stderr);
    assert.match(host.stdout, new RegExp(`^\\d+:[^:]*memory[^:]*:.*/gantry/${host.container.id}$`, 'm'));

    const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
    const dflt = await run({ cmd });
    const details = await world.client.containers.inspect(dflt.container.id);
    assert.equal(details.cgroupnsMode, v2 ? 'private' : 'host');
    if (!v2) assert.match(dflt.stdout, new RegExp(`/gantry/${dflt.container.id}$`, 'm'));
    assert.equal((await world.client.containers.inspect(priv.container.id)).cgroupnsMode, 'private');
  });

  it('the CLI takes --privileged, --device, --cgroupns, and inspect shows them as HostConfig', async () => {
    const created = await world.daemon.cli([
      'create',
      '--privileged',
      '--device',
      '/dev/null:/dev/mynull:rw',
      '--cgroupns',
      'private',
      '--cap-drop',
      'NET_RAW',
      world.image,
      'true',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const inspected = await world.daemon.cli(['inspect', created.stdout.trim()]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const [record] = JSON.parse(inspected.stdout) as Array<{ hostConfig: Record<string, unknown> }>;
    assert.equal(record.hostConfig.Privileged, true);
    assert.deepEqual(record.hostConfig.CapDrop, ['NET_RAW']);
    assert.deepEqual(record.hostConfig.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }]);
    assert.equal(record.hostConfig.CgroupnsMode, 'private');
    assert.deepEqual(record.hostConfig.UidMappings, []);
  });

  it('the CLI refuses bad --device and --cgroupns values with exit 125', async () => {
    for (const args of [
      ['--device', 'dev/null'],
      ['--device', '/dev/null:/dev/x:rwx'],
      ['--device', '/a:/b:r:w'],
      ['--cgroupns', 'shared'],
      ['--device', '/etc/hostname'],
    ]) {
      const r = await world.daemon.cli(['run', '--rm', ...args, world.image, 'true']);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /device|cgroupns/, args.join(' '));
    }
  });
});
