// The CRI security context against a real gantryd, runc, conmon and CNI
// plugins (test/helpers/criClient.ts): devices, supplemental groups,
// seccomp (unset, RuntimeDefault, Unconfined, a Localhost file, a missing
// one), AppArmor where the host has none, masked and read-only paths, pod
// sysctls and the infra's seccomp profile. docs/cri.md, "Security context".
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { SecurityProfile_ProfileType as ProfileType, SupplementalGroupsPolicy } from '../../../runtime/cri/gen/runtime/v1/api';
import { appArmorEnabled } from '../../../runtime/oci/specgen/apparmor/host';
import { failure, startCriDaemon, removeTestPod, runTestPod, testPodConfig, type CriClient } from '../../helpers/criClient';
import type { TestDaemon } from '../../helpers/daemon';
import { pushBusybox } from '../../helpers/fixtures';
import { startRegistry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';

describe('CRI security context', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let cri: CriClient;
  let logDir: string;
  let image: string;

  const podConfig = (name: string, extra: Record<string, unknown> = {}) => testPodConfig(name, logDir, 'security', extra);

  const containerConfig = (name: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image },
    command: ['sleep', '3600'],
    logPath: `${name}.log`,
    ...extra,
  });

  const secured = (name: string, securityContext: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    containerConfig(name, { linux: { securityContext }, ...extra });

  const runPod = (config: ReturnType<typeof podConfig>, containers: ReturnType<typeof containerConfig>[]) =>
    runTestPod(cri, config, containers);

  const removePod = (podSandboxId: string) => removeTestPod(cri, podSandboxId);

  const run = async (containerId: string, script: string) => {
    const r = await cri.runtime.execSync({ containerId, cmd: ['sh', '-c', script], timeout: 0n });
    return { exitCode: r.exitCode, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() };
  };
  const out = async (containerId: string, script: string) => {
    const r = await run(containerId, script);
    assert.equal(r.exitCode, 0, `${script}: ${r.err}`);
    return r.out;
  };
  const seccompMode = async (containerId: string) => out(containerId, 'grep ^Seccomp: /proc/self/status');

  /** The pod's containers by ID, for "nothing was made" checks. */
  const containersOf = async (podSandboxId: string) =>
    (await cri.runtime.listContainers({ filter: { podSandboxId } })).containers.map((c) => c.id).sort();

  before(async () => {
    const registry = await startRegistry({ cleanup });
    // A user listed in an image group: what the Merge policy adds and Strict leaves out.
    const pushed = await pushBusybox(registry, 'cri/security:1', {
      format: 'oci',
      image: {
        files: {
          '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
          '/etc/group': 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n',
        },
      },
    });
    logDir = await makeTempDir('crisec', cleanup);
    ({ daemon, cri } = await startCriDaemon(cleanup, logDir, 'gty', 232));
    image = (await cri.images.pullImage({ image: { image: pushed.ref } })).imageRef;
  });

  it('devices: /dev/null as /dev/mynull; "r" refuses opening for write, "rw" allows it; privileged gets the host devices', async () => {
    // /dev/null is in the default device rules (rwm) whatever the mapping says, as with containerd: the
    // permissions are seen on a device outside them. /dev/kmsg opened write-only needs no CAP_SYSLOG, and
    // opening it (without writing) logs nothing.
    const kmsg = (permissions: string) => ({ hostPath: '/dev/kmsg', containerPath: '/dev/mykmsg', permissions });
    const config = podConfig('devices', { linux: { securityContext: { privileged: true } } });
    const { podSandboxId, ids } = await runPod(config, [
      containerConfig('ro', { devices: [{ hostPath: '/dev/null', containerPath: '/dev/mynull', permissions: 'r' }, kmsg('r')] }),
      containerConfig('rw', { devices: [kmsg('rw')] }),
      secured('privileged', { privileged: true }),
      containerConfig('plain'),
    ]);
    const [ro, rw, privileged, plain] = ids;
    assert.match(await out(ro, 'ls -l /dev/mynull'), /^c.* 1, +3 /, 'the node is the null device');
    assert.equal(await out(ro, 'cat /dev/mynull; echo read-ok'), 'read-ok');
    assert.match(await out(ro, 'ls -l /dev/mykmsg'), /^c.* 1, +11 /);
    const refused = await run(ro, 'exec 3>/dev/mykmsg');
    assert.notEqual(refused.exitCode, 0, 'opening for write is refused with permissions "r"');
    assert.match(refused.err, /Operation not permitted/);
    assert.equal((await run(rw, 'exec 3>/dev/mykmsg')).exitCode, 0, 'and allowed with "rw"');
    assert.equal((await run(privileged, 'test -c /dev/kmsg')).exitCode, 0, 'privileged sees the host devices');
    assert.notEqual((await run(plain, 'test -e /dev/kmsg')).exitCode, 0, 'an unprivileged container does not');
    await removePod(podSandboxId);
    // containerd's rule: a privileged container only in a privileged sandbox.
    const unprivileged = podConfig('unprivileged');
    const pod = await runPod(unprivileged, []);
    const f = await failure(
      cri.runtime.createContainer({
        podSandboxId: pod.podSandboxId,
        config: secured('root', { privileged: true }),
        sandboxConfig: unprivileged,
      }),
    );
    assert.equal(f.code, status.INVALID_ARGUMENT, f.details);
    assert.match(f.details, /privileged pod sandbox/);
    assert.deepEqual(await containersOf(pod.podSandboxId), []);
    await removePod(pod.podSandboxId);
  });

  it("supplemental groups: Merge adds the image's groups of the user, Strict only the listed; ContainerStatus.user and the runtime feature", async () => {
    const user = { runAsUser: { value: 1000 }, runAsGroup: { value: 3000 }, supplementalGroups: [1234, 5678] };
    const { podSandboxId, ids } = await runPod(podConfig('groups'), [
      secured('merge', user),
      secured('strict', { ...user, supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict }),
    ]);
    const [merge, strict] = ids;
    const groups = async (id: string) => [...new Set((await out(id, 'id -G')).split(/\s+/).map(Number))].sort((a, b) => a - b);
    assert.deepEqual(await groups(merge), [10, 1234, 3000, 5678]);
    assert.deepEqual(await groups(strict), [1234, 3000, 5678]);
    assert.equal(await out(merge, 'id -u'), '1000');
    const s = (await cri.runtime.containerStatus({ containerId: merge })).status!;
    assert.equal(s.user?.linux?.uid, 1000n);
    assert.equal(s.user?.linux?.gid, 3000n);
    assert.deepEqual([...(s.user?.linux?.supplementalGroups ?? [])].sort(), [10n, 1234n, 3000n, 5678n].sort());
    const features = (await cri.runtime.status({ verbose: false })).features;
    assert.equal(features?.supplementalGroupsPolicy, true);
    await removePod(podSandboxId);
  });

  it('seccomp: unset and Unconfined run unfiltered, RuntimeDefault filtered, a Localhost file applies its rule', async () => {
    const dir = await makeTempDir('criseccomp', cleanup);
    const profile = path.join(dir, 'no-mkdir.json');
    fs.writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      }),
    );
    const { podSandboxId, ids } = await runPod(podConfig('seccomp'), [
      containerConfig('unset'),
      secured('unconfined', { seccomp: { profileType: ProfileType.Unconfined } }),
      secured('default', { seccomp: { profileType: ProfileType.RuntimeDefault } }),
      secured('localhost', { seccomp: { profileType: ProfileType.Localhost, localhostRef: profile } }),
      secured('deprecated', { seccompProfilePath: 'runtime/default' }),
      secured('admin', { seccomp: { profileType: ProfileType.RuntimeDefault }, capabilities: { addCapabilities: ['SYS_ADMIN'] } }),
    ]);
    const [unset, unconfined, runtimeDefault, localhost, deprecated, admin] = ids;
    assert.equal(await seccompMode(unset), 'Seccomp:\t0');
    assert.equal(await seccompMode(unconfined), 'Seccomp:\t0');
    assert.equal(await seccompMode(runtimeDefault), 'Seccomp:\t2');
    assert.equal(await seccompMode(deprecated), 'Seccomp:\t2');
    assert.equal(await seccompMode(localhost), 'Seccomp:\t2');
    const mkdir = await run(localhost, 'mkdir /tmp/d');
    assert.notEqual(mkdir.exitCode, 0);
    assert.match(mkdir.err, /Operation not permitted/);
    assert.equal((await run(localhost, 'touch /tmp/f')).exitCode, 0, 'what the profile allows still works');
    assert.equal((await run(unset, 'mkdir /tmp/d')).exitCode, 0);
    // The default profile opens sethostname only to a container holding CAP_SYS_ADMIN (the pod shares one UTS namespace).
    assert.notEqual((await run(runtimeDefault, 'hostname blocked')).exitCode, 0);
    assert.equal((await run(admin, 'hostname renamed')).exitCode, 0);
    assert.equal(await out(unset, 'hostname'), 'renamed');
    await removePod(podSandboxId);
  });

  it('seccomp: a missing or malformed Localhost profile is INVALID_ARGUMENT naming the path, and nothing is created', async () => {
    const dir = await makeTempDir('criseccompbad', cleanup);
    const malformed = path.join(dir, 'bad.json');
    fs.writeFileSync(malformed, '{"defaultAction": 42}');
    const config = podConfig('badseccomp');
    const { podSandboxId } = await runPod(config, []);
    const ps = () => daemon.cli(['ps', '-a', '-q', '--no-trunc', '--filter', 'namespace=k8s.io']);
    const before = (await ps()).stdout;
    for (const file of [path.join(dir, 'absent.json'), malformed]) {
      const f = await failure(
        cri.runtime.createContainer({
          podSandboxId,
          config: secured('c', { seccomp: { profileType: ProfileType.Localhost, localhostRef: file } }),
          sandboxConfig: config,
        }),
      );
      assert.equal(f.code, status.INVALID_ARGUMENT, f.details);
      assert.ok(f.details.includes(file), f.details);
    }
    assert.deepEqual(await containersOf(podSandboxId), []);
    assert.equal((await ps()).stdout, before, 'no container record was made');
    // A sandbox with a missing profile is refused the same way, and no infra is left.
    const sandbox = await failure(
      cri.runtime.runPodSandbox({
        config: podConfig('badinfra', {
          linux: { securityContext: { seccomp: { profileType: ProfileType.Localhost, localhostRef: path.join(dir, 'absent.json') } } },
        }),
      }),
    );
    assert.equal(sandbox.code, status.INVALID_ARGUMENT, sandbox.details);
    assert.deepEqual((await cri.runtime.listPodSandbox({ filter: { labelSelector: { app: 'badinfra' } } })).items, []);
    assert.equal((await ps()).stdout, before, 'no infra record was made');
    await removePod(podSandboxId);
  });

  it('the infra process: unfiltered and root when unset; RuntimeDefault filters it; run_as_user/group and groups apply', async () => {
    const infra = async (config: ReturnType<typeof podConfig>) => {
      const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
      const s = await cri.runtime.podSandboxStatus({ podSandboxId, verbose: true });
      const { pid } = JSON.parse(s.info.info) as { pid: number };
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      await removePod(podSandboxId);
      const line = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(status)![1].trim().split(/\s+/);
      return { seccomp: line('Seccomp')[0], uid: line('Uid')[0], gid: line('Gid')[0], groups: line('Groups') };
    };
    const plain = await infra(podConfig('infra-unset'));
    assert.deepEqual([plain.seccomp, plain.uid, plain.gid], ['0', '0', '0']);
    const confined = await infra(
      podConfig('infra-default', {
        linux: {
          securityContext: {
            seccomp: { profileType: ProfileType.RuntimeDefault },
            runAsUser: { value: 1000 },
            runAsGroup: { value: 2000 },
            supplementalGroups: [3000],
          },
        },
      }),
    );
    assert.deepEqual([confined.seccomp, confined.uid, confined.gid], ['2', '1000', '2000']);
    assert.deepEqual([...confined.groups].sort(), ['2000', '3000']);
  });

  it('AppArmor on a host without it: RuntimeDefault and Unconfined run, Localhost is FAILED_PRECONDITION and nothing is created', async function () {
    if (appArmorEnabled()) this.skip(); // this checks the host without AppArmor; a host with it needs a loaded profile
    const config = podConfig('apparmor');
    const { podSandboxId, ids } = await runPod(config, [
      secured('default', { apparmor: { profileType: ProfileType.RuntimeDefault } }),
      secured('unconfined', { apparmor: { profileType: ProfileType.Unconfined } }),
    ]);
    for (const id of ids) assert.equal(await out(id, 'echo up'), 'up');
    const f = await failure(
      cri.runtime.createContainer({
        podSandboxId,
        config: secured('local', { apparmor: { profileType: ProfileType.Localhost, localhostRef: 'my-profile' } }),
        sandboxConfig: config,
      }),
    );
    assert.equal(f.code, status.FAILED_PRECONDITION, f.details);
    assert.match(f.details, /AppArmor is not enabled on this host.*my-profile/);
    assert.deepEqual(await containersOf(podSandboxId), [...ids].sort());
    await removePod(podSandboxId);
  });

  it('masked and read-only paths: given ones replace the defaults; a masked file reads empty, a read-only path refuses writes', async () => {
    const { podSandboxId, ids } = await runPod(podConfig('paths'), [
      secured('given', { maskedPaths: ['/hello.txt'], readonlyPaths: ['/etc'] }),
      containerConfig('defaults'),
    ]);
    const [given, defaults] = ids;
    assert.equal(await out(given, 'cat /hello.txt; echo end'), 'end', 'the masked file reads empty');
    assert.equal(await out(defaults, 'cat /hello.txt'), 'hello from a gantry fixture image');
    const write = await run(given, 'touch /etc/new');
    assert.notEqual(write.exitCode, 0);
    assert.match(write.err, /Read-only file system/);
    assert.equal((await run(defaults, 'touch /etc/new')).exitCode, 0);
    const spec = async (containerId: string) =>
      (
        JSON.parse((await cri.runtime.containerStatus({ containerId, verbose: true })).info.info) as {
          runtimeSpec: { linux: { maskedPaths: string[]; readonlyPaths: string[] } };
        }
      ).runtimeSpec.linux;
    const linux = await spec(given);
    assert.deepEqual([linux.maskedPaths, linux.readonlyPaths], [['/hello.txt'], ['/etc']]);
    assert.ok((await spec(defaults)).maskedPaths.includes('/proc/kcore'), 'the defaults stay without a list');
    await removePod(podSandboxId);
  });

  it('pod sysctls: set on the infra and seen in its containers; a non-namespaced one is INVALID_ARGUMENT', async () => {
    const sysctls = { 'net.ipv4.ip_local_port_range': '20000 30000', 'kernel.shmmax': '123456789' };
    const { podSandboxId, ids } = await runPod(podConfig('sysctls', { linux: { sysctls } }), [containerConfig('c')]);
    assert.equal(await out(ids[0], 'cat /proc/sys/net/ipv4/ip_local_port_range'), '20000\t30000');
    assert.equal(await out(ids[0], 'cat /proc/sys/kernel/shmmax'), '123456789');
    await removePod(podSandboxId);
    const f = await failure(cri.runtime.runPodSandbox({ config: podConfig('badsysctl', { linux: { sysctls: { 'kernel.panic': '1' } } }) }));
    assert.equal(f.code, status.INVALID_ARGUMENT, f.details);
    assert.match(f.details, /kernel\.panic/);
    assert.deepEqual((await cri.runtime.listPodSandbox({ filter: { labelSelector: { app: 'badsysctl' } } })).items, []);
  });
});
