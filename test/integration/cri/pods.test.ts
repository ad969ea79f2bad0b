// CRI pod sandboxes and their containers, driven as a kubelet drives them
// (test/helpers/criClient.ts) against a real gantryd, runc, conmon, CNI
// plugins and a real registry: the infra process with no registry involved,
// two containers sharing the pod network, ExecSync, logs in the CRI format
// and their reopening, host ports, host network, DNS, a SIGKILLed daemon, and
// bad input. docs/cri.md.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { ContainerState, NamespaceMode, PodSandboxState } from '../../../runtime/cri/gen/runtime/v1/api';
import { criClient, failure, startCriDaemon, removeTestPod, runTestPod, testPodConfig, type CriClient } from '../../helpers/criClient';
import { startDaemon, type TestDaemon } from '../../helpers/daemon';
import { removeBridge } from '../../../runtime/network/bridges';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { httpGet } from '../../helpers/http';
import { freePort } from '../../helpers/ports';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor } from '../../helpers/waitFor';

/** The host's first global IPv4 address not on a bridge of ours (as network/harness.ts finds it). */
async function hostAddress(): Promise<string> {
  const links = JSON.parse((await runCommand('ip', ['-j', '-4', 'addr', 'show', 'scope', 'global'])).stdout) as {
    ifname: string;
    addr_info: { local: string }[];
  }[];
  const found = links.find((l) => !l.ifname.startsWith('gt') && l.addr_info.length > 0);
  assert.ok(found, 'this host has a global IPv4 address');
  return found.addr_info[0].local;
}

describe('CRI pods: sandboxes and their containers', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let cri: CriClient;
  let registry: Registry;
  let pushed: PushedImage;
  let logDir: string;
  let image: string;

  const podConfig = (name: string, extra: Record<string, unknown> = {}) =>
    testPodConfig(name, logDir, 'pods', { annotations: { note: `pod ${name}` }, ...extra });

  const containerConfig = (name: string, args: string[], extra: Record<string, unknown> = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image },
    command: ['sh', '-c'],
    args,
    logPath: `${name}.log`,
    labels: { container: name },
    annotations: { kept: 'yes' },
    ...extra,
  });

  const runPod = (config: ReturnType<typeof podConfig>, containers: ReturnType<typeof containerConfig>[]) =>
    runTestPod(cri, config, containers);

  const exec = (containerId: string, cmd: string[], timeout = 0) => cri.runtime.execSync({ containerId, cmd, timeout: BigInt(timeout) });

  /** busybox from the test registry, pulled after the first test (which needs an empty store). */
  const pullOnce = async () => {
    image ||= (await cri.images.pullImage({ image: { image: pushed.ref } })).imageRef;
  };

  const removePod = (podSandboxId: string) => removeTestPod(cri, podSandboxId);

  before(async () => {
    registry = await startRegistry({ cleanup });
    pushed = await pushBusybox(registry, 'cri/pods:1', { format: 'oci' });
    logDir = await makeTempDir('crilogs', cleanup);
    ({ daemon, cri } = await startCriDaemon(cleanup, logDir, 'gtp', 216));
  });

  it('runs a sandbox before any image is pulled: the infra needs no registry; it is READY with an IP and verbose info', async () => {
    assert.deepEqual((await cri.images.listImages({})).images, [], 'no image in the store');
    const config = podConfig('infra-only');
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
    assert.deepEqual((await cri.images.listImages({})).images, [], 'nothing was pulled for the infra');
    const s = await cri.runtime.podSandboxStatus({ podSandboxId, verbose: true });
    assert.equal(s.status?.id, podSandboxId);
    assert.equal(s.status?.state, PodSandboxState.SANDBOX_READY);
    assert.deepEqual(s.status?.metadata, config.metadata);
    assert.deepEqual(s.status?.labels, config.labels);
    assert.deepEqual(s.status?.annotations, config.annotations);
    assert.match(s.status?.network?.ip ?? '', /^10\.\d+\.\d+\.\d+$/);
    assert.ok((s.status?.createdAt ?? 0n) > 0n);
    const info = JSON.parse(s.info.info) as { pid: number; runtimeSpec: { process: { args: string[] } }; config: { hostname: string } };
    assert.ok(info.pid > 0);
    assert.deepEqual(info.runtimeSpec.process.args, ['/catatonit', '-P']);
    assert.equal(fs.readFileSync(`/proc/${info.pid}/comm`, 'utf8').trim(), 'catatonit');
    assert.equal(info.config.hostname, 'infra-only');
    // Hidden from `gantry ps -a`, shown with the namespace filter.
    const ps = await daemon.cli(['ps', '-a', '--no-trunc', '--format', '{{.ID}}']);
    assert.ok(!ps.stdout.includes(podSandboxId), ps.stdout);
    const ns = await daemon.cli(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}}', '--filter', 'namespace=k8s.io']);
    assert.match(ns.stdout, new RegExp(`${podSandboxId} k8s.io/default/infra-only/`));
    await removePod(podSandboxId);
    assert.equal(fs.existsSync(`/proc/${info.pid}`), false, 'the infra process is gone');
  });

  describe('a pod of two containers', () => {
    let podSandboxId: string;
    let server: string;
    let client: string;
    let hostPort: number;
    let config: ReturnType<typeof podConfig>;

    before(async () => {
      await pullOnce();
      hostPort = await freePort();
      config = podConfig('web', { portMappings: [{ protocol: 0, containerPort: 8080, hostPort }] });
      const pod = await runPod(config, [
        containerConfig('server', ['mkdir -p /www && echo hello-pod > /www/index.html && exec httpd -f -p 8080 -h /www']),
        containerConfig('client', [
          'echo started; echo to-stderr >&2; while true; do if [ -f /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.1; done',
        ]),
      ]);
      podSandboxId = pod.podSandboxId;
      [server, client] = pod.ids;
    });

    it('shares the network: the client reaches the server on localhost; both see the pod hostname', async () => {
      const body = await waitFor(
        async () => {
          const r = await exec(client, ['wget', '-qO-', 'http://127.0.0.1:8080/']);
          return r.exitCode === 0 ? r.stdout.toString() : undefined;
        },
        { what: 'the server answering on localhost', intervalMs: 100 },
      );
      assert.equal(body, 'hello-pod\n');
      assert.equal((await exec(server, ['hostname'])).stdout.toString(), 'web\n');
      assert.equal((await exec(client, ['hostname'])).stdout.toString(), 'web\n');
      assert.match((await exec(client, ['cat', '/etc/hosts'])).stdout.toString(), /\bweb\b/);
    });

    it('hostPort answers on the host', async () => {
      const body = await waitFor(() => httpGet(`http://${'127.0.0.1'}:${hostPort}/`).catch(() => undefined), {
        what: 'the host port',
        intervalMs: 100,
      });
      assert.equal(body, 'hello-pod\n');
      assert.equal(await httpGet(`http://${await hostAddress()}:${hostPort}/`), 'hello-pod\n');
    });

    it('ExecSync: stdout and stderr apart, the exit code, a timeout that fires', async () => {
      const r = await exec(client, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(r.stdout.toString(), 'out\n');
      assert.equal(r.stderr.toString(), 'err\n');
      assert.equal(r.exitCode, 3);
      const slow = await failure(exec(client, ['sleep', '30'], 1));
      assert.equal(slow.code, status.DEADLINE_EXCEEDED, slow.details);
      assert.match(slow.details, /timed out/);
      const ps = await exec(client, ['ps', '-o', 'args']);
      assert.ok(!ps.stdout.toString().includes('sleep 30'), 'the timed-out process was killed');
      const unknown = await failure(exec('f'.repeat(64), ['true']));
      assert.equal(unknown.code, status.NOT_FOUND);
    });

    it('logs in the CRI format at log_directory/log_path; ReopenContainerLog after a rename', async () => {
      const logPath = path.join(config.logDirectory, 'client.log');
      const lines = await waitFor(
        () => {
          const text = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '';
          return text.includes('to-stderr') ? text.trim().split('\n') : undefined;
        },
        { what: 'the client log' },
      );
      const format = /^(\S+) (stdout|stderr) (F|P) (.*)$/;
      for (const l of lines) assert.match(l, format);
      const parsed = lines.map((l) => format.exec(l)!);
      assert.ok(parsed.some((m) => m[2] === 'stdout' && m[3] === 'F' && m[4] === 'started'));
      assert.ok(parsed.some((m) => m[2] === 'stderr' && m[4] === 'to-stderr'));
      assert.ok(!Number.isNaN(Date.parse(parsed[0][1])));
      assert.match(parsed[0][1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+/);

      // The same container for the gantry CLI, by ID.
      assert.match((await daemon.cli(['logs', client])).stdout, /^started$/m);
      assert.match((await daemon.cli(['inspect', '--format', '{{.Name}}', client])).stdout, /k8s\.io\/default\/web\/.*\/client\/0/);

      fs.renameSync(logPath, `${logPath}.1`);
      await cri.runtime.reopenContainerLog({ containerId: client });
      await exec(client, ['sh', '-c', 'echo after-reopen > /tmp/say']);
      await waitFor(() => fs.existsSync(logPath) && fs.readFileSync(logPath, 'utf8').includes('stdout F after-reopen'), {
        what: 'the line in the reopened log',
      });
      assert.ok(!fs.readFileSync(`${logPath}.1`, 'utf8').includes('after-reopen'));
    });

    it('ContainerStatus and ListContainers: state, times, image, labels, annotations, log path; filters', async () => {
      const s = (await cri.runtime.containerStatus({ containerId: client, verbose: true })).status!;
      assert.equal(s.state, ContainerState.CONTAINER_RUNNING);
      assert.deepEqual(s.metadata, { name: 'client', attempt: 0 });
      assert.ok(s.createdAt > 0n && s.startedAt >= s.createdAt && s.finishedAt === 0n);
      assert.equal(s.imageRef, image);
      assert.deepEqual(s.labels, { container: 'client' });
      assert.deepEqual(s.annotations, { kept: 'yes' });
      assert.equal(s.logPath, path.join(config.logDirectory, 'client.log'));
      const all = await cri.runtime.listContainers({ filter: { podSandboxId } });
      assert.deepEqual(all.containers.map((c) => c.id).sort(), [server, client].sort());
      const byLabel = await cri.runtime.listContainers({ filter: { labelSelector: { container: 'server' } } });
      assert.deepEqual(
        byLabel.containers.map((c) => c.id),
        [server],
      );
      const sandboxes = await cri.runtime.listPodSandbox({ filter: { labelSelector: { app: 'web' } } });
      assert.deepEqual(
        sandboxes.items.map((p) => p.id),
        [podSandboxId],
      );
      const ready = await cri.runtime.listPodSandbox({
        filter: { id: podSandboxId.slice(0, 12), state: { state: PodSandboxState.SANDBOX_READY } },
      });
      assert.equal(ready.items.length, 1);
    });

    it('exit codes and reasons: Completed, Error; StopContainer with a timeout; stop and remove twice', async () => {
      const config2 = containerConfig('oneshot', ['exit 0']);
      const { containerId: done } = await cri.runtime.createContainer({ podSandboxId, config: config2, sandboxConfig: config });
      assert.equal((await cri.runtime.containerStatus({ containerId: done })).status?.state, ContainerState.CONTAINER_CREATED);
      await cri.runtime.startContainer({ containerId: done });
      const exited = await waitFor(
        async () => {
          const s = (await cri.runtime.containerStatus({ containerId: done })).status!;
          return s.state === ContainerState.CONTAINER_EXITED ? s : undefined;
        },
        { what: 'the one-shot container exited', intervalMs: 100 },
      );
      assert.equal(exited.exitCode, 0);
      assert.equal(exited.reason, 'Completed');
      assert.ok(exited.finishedAt >= exited.startedAt && exited.finishedAt > 0n);

      await cri.runtime.stopContainer({ containerId: server, timeout: 1n });
      const stopped = (await cri.runtime.containerStatus({ containerId: server })).status!;
      assert.equal(stopped.state, ContainerState.CONTAINER_EXITED);
      assert.notEqual(stopped.exitCode, 0);
      assert.equal(stopped.reason, 'Error');
      await cri.runtime.stopContainer({ containerId: server, timeout: 1n });
      await cri.runtime.removeContainer({ containerId: server });
      await cri.runtime.removeContainer({ containerId: server });
      assert.equal((await failure(cri.runtime.containerStatus({ containerId: server }))).code, status.NOT_FOUND);
      await cri.runtime.removeContainer({ containerId: done });
    });

    it('StopPodSandbox and RemovePodSandbox twice each; everything of the pod is gone', async () => {
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.stopPodSandbox({ podSandboxId });
      assert.equal((await cri.runtime.podSandboxStatus({ podSandboxId })).status?.state, PodSandboxState.SANDBOX_NOTREADY);
      assert.equal((await cri.runtime.containerStatus({ containerId: client })).status?.state, ContainerState.CONTAINER_EXITED);
      await assert.rejects(httpGet(`http://127.0.0.1:${hostPort}/`));
      await cri.runtime.removePodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
      assert.equal((await failure(cri.runtime.podSandboxStatus({ podSandboxId }))).code, status.NOT_FOUND);
      assert.equal((await failure(cri.runtime.containerStatus({ containerId: client }))).code, status.NOT_FOUND);
      assert.deepEqual((await cri.runtime.listPodSandbox({ filter: { id: podSandboxId } })).items, []);
      assert.deepEqual((await cri.runtime.listContainers({ filter: { podSandboxId } })).containers, []);
    });
  });

  describe('namespaces, DNS and recovery', () => {
    before(pullOnce);

    it('hostNetwork: the pod sees the host interfaces', async () => {
      const config = podConfig('hostnet', { linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } } });
      const { podSandboxId, ids } = await runPod(config, [containerConfig('c', ['sleep 3600'])]);
      const inPod = (await exec(ids[0], ['ls', '/sys/class/net'])).stdout.toString().trim().split(/\s+/).sort();
      const onHost = fs.readdirSync('/sys/class/net').sort();
      assert.deepEqual(inPod, onHost);
      assert.equal((await cri.runtime.podSandboxStatus({ podSandboxId })).status?.linux?.namespaces?.options?.network, NamespaceMode.NODE);
      await removePod(podSandboxId);
    });

    it('dns_config lands in resolv.conf; PID sharing with POD shows the infra process', async () => {
      const config = podConfig('dns', {
        dnsConfig: {
          servers: ['10.96.0.10', '10.96.0.11'],
          searches: ['default.svc.cluster.local', 'svc.cluster.local'],
          options: ['ndots:5'],
        },
        linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.POD } } },
      });
      const { podSandboxId, ids } = await runPod(config, [containerConfig('c', ['sleep 3600'])]);
      const resolv = (await exec(ids[0], ['cat', '/etc/resolv.conf'])).stdout.toString();
      assert.equal(
        resolv,
        'search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5\n',
      );
      const ps = (await exec(ids[0], ['ps', '-o', 'pid,args'])).stdout.toString();
      assert.match(ps, /^\s*1\s+\/catatonit -P$/m, ps);
      await removePod(podSandboxId);
    });

    it('a gantryd SIGKILL with a pod running: recovered with its state, network and logs', async () => {
      const config = podConfig('survivor');
      const { podSandboxId, ids } = await runPod(config, [
        containerConfig('c', ['echo before; while true; do if [ -f /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.1; done']),
      ]);
      const before = (await cri.runtime.podSandboxStatus({ podSandboxId })).status!;
      const pid = JSON.parse((await cri.runtime.containerStatus({ containerId: ids[0], verbose: true })).info.info).pid as number;
      await daemon.kill();
      cri.close();
      await daemon.start();
      cri = criClient(path.join(daemon.state, 'cri.sock'));
      const after = (await cri.runtime.podSandboxStatus({ podSandboxId })).status!;
      assert.equal(after.state, PodSandboxState.SANDBOX_READY);
      assert.equal(after.network?.ip, before.network?.ip);
      assert.deepEqual(after.labels, before.labels);
      const c = await cri.runtime.containerStatus({ containerId: ids[0], verbose: true });
      assert.equal(c.status?.state, ContainerState.CONTAINER_RUNNING);
      assert.equal(JSON.parse(c.info.info).pid, pid, 'the same process');
      await exec(ids[0], ['sh', '-c', 'echo after-restart > /tmp/say']);
      const logPath = path.join(config.logDirectory, 'c.log');
      await waitFor(() => fs.readFileSync(logPath, 'utf8').includes('stdout F after-restart'), { what: 'the log continues' });
      await removePod(podSandboxId);
    });
  });

  describe('security context, mounts, resources, TARGET pid', () => {
    before(pullOnce);

    it('user and group, read-only rootfs, capabilities, privileged, a read-only bind, TARGET pid, OOMKilled', async () => {
      const dataDir = await makeTempDir('cridata', cleanup);
      fs.writeFileSync(path.join(dataDir, 'f'), 'from-host\n', { mode: 0o644 });
      fs.chmodSync(dataDir, 0o755); // readable by uid 1000
      // Privileged, as a kubelet makes the sandbox of a pod with a privileged container (CreateContainer requires it).
      const config = podConfig('secure', { linux: { securityContext: { privileged: true } } });
      const { podSandboxId, ids } = await runPod(config, [
        containerConfig('plain', ['sleep 3600']),
        containerConfig('locked', ['sleep 3601'], {
          mounts: [{ hostPath: dataDir, containerPath: '/data', readonly: true, propagation: 1 }],
          linux: {
            securityContext: {
              runAsUser: { value: 1000 },
              runAsGroup: { value: 1001 },
              readonlyRootfs: true,
              capabilities: { dropCapabilities: ['ALL'], addCapabilities: ['NET_RAW'] },
            },
          },
        }),
        containerConfig('root', ['sleep 3602'], { linux: { securityContext: { privileged: true } } }),
      ]);
      const [plain, locked, privileged] = ids;
      const out = async (id: string, cmd: string) => (await exec(id, ['sh', '-c', cmd])).stdout.toString().trim();
      assert.equal(await out(locked, 'id -u; id -g'), '1000\n1001');
      assert.equal((await exec(locked, ['touch', '/x'])).exitCode === 0, false, 'the rootfs is read-only');
      assert.equal(await out(locked, 'cat /data/f'), 'from-host');
      assert.notEqual((await exec(locked, ['touch', '/data/y'])).exitCode, 0, 'the bind is read-only');
      assert.equal(await out(locked, 'grep CapBnd /proc/self/status'), 'CapBnd:\t0000000000002000', 'only NET_RAW');
      const hostBound = /CapBnd:\s*(\w+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
      assert.equal(await out(privileged, 'grep CapEff /proc/self/status'), `CapEff:\t${hostBound}`);
      assert.notEqual(await out(plain, 'grep CapEff /proc/self/status'), `CapEff:\t${hostBound}`);

      const { containerId: target } = await cri.runtime.createContainer({
        podSandboxId,
        config: containerConfig('peer', ['sleep 3603'], {
          linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.TARGET, targetId: plain } } },
        }),
        sandboxConfig: config,
      });
      await cri.runtime.startContainer({ containerId: target });
      const ps = await out(target, 'ps -o args');
      assert.match(ps, /sleep 3600/, 'sees the target container');
      assert.doesNotMatch(ps, /sleep 3601/, 'not the others');

      const { containerId: hog } = await cri.runtime.createContainer({
        podSandboxId,
        config: containerConfig('hog', ['x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], {
          linux: { resources: { memoryLimitInBytes: 16 * 1024 * 1024 } },
        }),
        sandboxConfig: config,
      });
      await cri.runtime.startContainer({ containerId: hog });
      const oom = await waitFor(
        async () => {
          const s = (await cri.runtime.containerStatus({ containerId: hog })).status!;
          return s.state === ContainerState.CONTAINER_EXITED ? s : undefined;
        },
        { what: 'the memory hog killed', intervalMs: 100 },
      );
      assert.equal(oom.reason, 'OOMKilled', JSON.stringify({ exitCode: oom.exitCode, message: oom.message }));
      assert.notEqual(oom.exitCode, 0);
      await removePod(podSandboxId);
    });
  });

  describe('concurrency', () => {
    before(pullOnce);

    it('concurrent stops and removes of one sandbox are serialised and all succeed; the same pod twice is refused', async () => {
      const config = podConfig('racy');
      const { podSandboxId, ids } = await runPod(config, [containerConfig('c', ['sleep 3600'])]);
      const twice = await failure(cri.runtime.runPodSandbox({ config }));
      assert.equal(twice.code, status.ALREADY_EXISTS, twice.details);
      await Promise.all([
        cri.runtime.stopPodSandbox({ podSandboxId }),
        cri.runtime.removePodSandbox({ podSandboxId }),
        cri.runtime.stopPodSandbox({ podSandboxId }),
        cri.runtime.removePodSandbox({ podSandboxId }),
      ]);
      assert.equal((await failure(cri.runtime.podSandboxStatus({ podSandboxId }))).code, status.NOT_FOUND);
      assert.equal((await failure(cri.runtime.containerStatus({ containerId: ids[0] }))).code, status.NOT_FOUND);
      const ps = await daemon.cli(['ps', '-a', '-q', '--no-trunc', '--filter', 'namespace=k8s.io']);
      assert.ok(!ps.stdout.includes(podSandboxId) && !ps.stdout.includes(ids[0]), ps.stdout);
    });
  });

  describe('--cri-cni-conf-dir', () => {
    it('pods attach to the first conflist of the directory (by file name)', async () => {
      const dir = await makeTempDir('cricni', cleanup);
      const h = createHash('sha256').update(dir).digest();
      const conflist = (name: string, bridge: string, subnet: string) =>
        JSON.stringify({
          cniVersion: '1.0.0',
          name,
          plugins: [
            {
              type: 'bridge',
              bridge,
              isGateway: true,
              ipMasq: true,
              ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(dir, 'ipam') },
            },
            { type: 'portmap', capabilities: { portMappings: true } },
          ],
        });
      const bridge = `gtq${h.subarray(0, 4).toString('hex').slice(0, 7)}`;
      const prefix = `10.${224 + (h[4] & 7)}.${h[5]}`;
      fs.writeFileSync(path.join(dir, '10-pods.conflist'), conflist('test-pods', bridge, `${prefix}.0/24`));
      fs.writeFileSync(path.join(dir, '20-other.conflist'), conflist('test-other', `${bridge}x`, `10.${232 + (h[4] & 7)}.${h[5]}.0/24`));
      const other = await startDaemon(cleanup, ['--cri-cni-conf-dir', dir]);
      cleanup.defer(() => removeBridge(bridge).catch(() => undefined));
      const client = criClient(path.join(other.state, 'cri.sock'));
      cleanup.defer(() => client.close());
      const { podSandboxId } = await client.runtime.runPodSandbox({ config: podConfig('confdir') });
      const s = (await client.runtime.podSandboxStatus({ podSandboxId })).status!;
      assert.ok(s.network?.ip.startsWith(`${prefix}.`), `${s.network?.ip} is in ${prefix}.0/24`);
      await client.runtime.stopPodSandbox({ podSandboxId });
      await client.runtime.removePodSandbox({ podSandboxId });
    });
  });

  describe('bad input', () => {
    before(pullOnce);

    it('unknown IDs: NOT_FOUND; stop and remove of an absent sandbox or container succeed', async () => {
      const nope = 'a'.repeat(64);
      assert.equal((await failure(cri.runtime.podSandboxStatus({ podSandboxId: nope }))).code, status.NOT_FOUND);
      assert.equal((await failure(cri.runtime.containerStatus({ containerId: nope }))).code, status.NOT_FOUND);
      assert.equal((await failure(cri.runtime.startContainer({ containerId: nope }))).code, status.NOT_FOUND);
      const create = await failure(cri.runtime.createContainer({ podSandboxId: nope, config: containerConfig('x', ['true']) }));
      assert.equal(create.code, status.NOT_FOUND);
      await cri.runtime.stopPodSandbox({ podSandboxId: nope });
      await cri.runtime.removePodSandbox({ podSandboxId: nope });
      await cri.runtime.stopContainer({ containerId: nope });
      await cri.runtime.removeContainer({ containerId: nope });
      // A kubelet sends its pod CIDR at start: accepted (logged, not applied).
      await cri.runtime.updateRuntimeConfig({ runtimeConfig: { networkConfig: { podCidr: '10.244.0.0/24' } } });
    });

    it('conflicting namespace options: INVALID_ARGUMENT and nothing half-made', async () => {
      const before = await daemon.cli(['ps', '-a', '-q', '--filter', 'namespace=k8s.io']);
      const bad = [{ network: NamespaceMode.CONTAINER }, { ipc: NamespaceMode.TARGET }, { pid: NamespaceMode.TARGET, targetId: 'x' }];
      for (const namespaceOptions of bad) {
        const f = await failure(
          cri.runtime.runPodSandbox({ config: podConfig('bad', { linux: { securityContext: { namespaceOptions } } }) }),
        );
        assert.equal(f.code, status.INVALID_ARGUMENT, f.details);
        assert.match(f.details, /namespace options/);
      }
      const after = await daemon.cli(['ps', '-a', '-q', '--filter', 'namespace=k8s.io']);
      assert.equal(after.stdout, before.stdout);
      assert.deepEqual((await cri.runtime.listPodSandbox({ filter: { labelSelector: { app: 'bad' } } })).items, []);
    });

    it('a container of an image that is not there: NOT_FOUND, and the pod is unchanged', async () => {
      const config = podConfig('noimage');
      const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
      const f = await failure(
        cri.runtime.createContainer({
          podSandboxId,
          config: { ...containerConfig('x', ['true']), image: { image: `${registry.host}/cri/absent:1` } },
        }),
      );
      assert.equal(f.code, status.NOT_FOUND, f.details);
      assert.deepEqual((await cri.runtime.listContainers({ filter: { podSandboxId } })).containers, []);
      await removePod(podSandboxId);
    });
  });
});
