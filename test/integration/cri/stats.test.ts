// CRI statistics, resource updates and container events, driven as a
// kubelet drives them (test/helpers/criClient.ts) against a real gantryd,
// runc, conmon, CNI plugins and a real registry: a container's working set
// after it filled a tmpfs, CPU time of a busy loop, its writable layer after a
// write, the pod's network counters after traffic, a memory limit changed on
// a running container as the cgroup and ContainerStatus show it, and the
// created/started/stopped/deleted events of a container in order. docs/cri.md.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { ContainerEventType, ContainerState, PodSandboxState } from '../../../runtime/cri/gen/runtime/v1/api';
import { cgroupLayout } from '../../../runtime/tasks/stats';
import { criEvents, failure, startCriDaemon, type CriClient } from '../../helpers/criClient';
import { type TestDaemon } from '../../helpers/daemon';
import { pushBusybox, type PushedImage } from '../../helpers/fixtures';
import { runCommand } from '../../helpers/proc';
import { startRegistry, type Registry } from '../../helpers/registry';
import { makeTempDir, suiteCleanup } from '../../helpers/tmp';
import { waitFor, within } from '../../helpers/waitFor';

const MiB = 1024 * 1024;

/** Connects to ip:port, writes `bytes` bytes and closes; resolves once the peer has them all (its FIN after ours). */
function sendBytes(ip: string, port: number, bytes: number): Promise<true> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ip, port }, () => socket.end(Buffer.alloc(bytes, 1)));
    socket.on('error', reject);
    socket.resume();
    socket.on('close', (hadError) => (hadError ? reject(new Error('closed with an error')) : resolve(true)));
  });
}

/** A cgroup file of the container, wherever this host's layout keeps it (v1: the controller's tree; v2: one tree). */
async function cgroupFile(id: string, controller: string, v1File: string, v2File: string): Promise<string> {
  const layout = await cgroupLayout();
  if (layout.version === 1) return fs.readFileSync(path.join(layout.v1.get(controller)!.mountPoint, 'gantry', id, v1File), 'utf8').trim();
  return fs.readFileSync(path.join(layout.unified!.mountPoint, 'gantry', id, v2File), 'utf8').trim();
}

describe('CRI statistics, resource updates and events', function () {
  this.timeout(240_000);
  const cleanup = suiteCleanup();
  let daemon: TestDaemon;
  let cri: CriClient;
  let registry: Registry;
  let pushed: PushedImage;
  let logDir: string;
  let image: string;
  const uid = () => randomBytes(6).toString('hex');

  const podConfig = (name: string) => ({
    metadata: { name, namespace: 'stats', uid: uid(), attempt: 0 },
    hostname: name,
    logDirectory: path.join(logDir, name),
    labels: { app: name },
  });

  const containerConfig = (name: string, script: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name, attempt: 0 },
    image: { image },
    command: ['sh', '-c'],
    args: [script],
    logPath: `${name}.log`,
    labels: { container: name },
    ...extra,
  });

  const exec = (containerId: string, cmd: string[]) => cri.runtime.execSync({ containerId, cmd, timeout: 0n });

  before(async () => {
    registry = await startRegistry({ cleanup });
    pushed = await pushBusybox(registry, 'cri/stats:1', { format: 'oci' });
    logDir = await makeTempDir('cristats', cleanup);
    ({ daemon, cri } = await startCriDaemon(cleanup, logDir, 'gts', 224));
    image = (await cri.images.pullImage({ image: { image: pushed.ref } })).imageRef;
  });

  describe('a pod with a memory filler and a busy loop', () => {
    let podSandboxId: string;
    let filler: string;
    let spinner: string;
    let config: ReturnType<typeof podConfig>;

    before(async () => {
      config = podConfig('stats');
      ({ podSandboxId } = await cri.runtime.runPodSandbox({ config }));
      const start = async (c: ReturnType<typeof containerConfig>) => {
        const { containerId } = await cri.runtime.createContainer({ podSandboxId, config: c, sandboxConfig: config });
        await cri.runtime.startContainer({ containerId });
        return containerId;
      };
      // 40 MiB in /dev/shm (a tmpfs: charged to the container's memory, never inactive file cache).
      filler = await start(
        containerConfig(
          'filler',
          // …and a TCP sink on port 9000 for the network counters.
          '(while :; do nc -l -p 9000 >/dev/null; done) & dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null && touch /tmp/filled; exec sleep 3600',
        ),
      );
      spinner = await start(containerConfig('spinner', 'while :; do :; done'));
      await waitFor(async () => (await exec(filler, ['test', '-f', '/tmp/filled'])).exitCode === 0, { what: 'the filler done' });
    });

    after(async () => {
      await cri.runtime.stopPodSandbox({ podSandboxId });
      await cri.runtime.removePodSandbox({ podSandboxId });
    });

    it('ContainerStats: the working set holds what the container allocated; usage, rss and page faults; attributes', async () => {
      const { stats } = await cri.runtime.containerStats({ containerId: filler });
      assert.equal(stats?.attributes?.id, filler);
      assert.equal(stats?.attributes?.metadata?.name, 'filler');
      assert.deepEqual(stats?.attributes?.labels, { container: 'filler' });
      const m = stats.memory!;
      assert.ok(m.workingSetBytes!.value > BigInt(40 * MiB), `working set ${m.workingSetBytes!.value}`);
      assert.ok(m.usageBytes!.value >= m.workingSetBytes!.value, 'usage includes the working set');
      assert.ok(m.pageFaults!.value > 0n, 'page faults counted');
      assert.ok(m.rssBytes !== undefined);
      assert.equal(m.availableBytes, undefined, 'no limit, no available bytes');
      assert.ok((m.timestamp ?? 0n) > 0n);
    });

    it('CPU: usage_core_nano_seconds grows while the loop runs; usage_nano_cores is the rate between two samples', async () => {
      const first = (await cri.runtime.containerStats({ containerId: spinner })).stats!.cpu!;
      const later = await waitFor(
        async () => {
          const cpu = (await cri.runtime.containerStats({ containerId: spinner })).stats!.cpu!;
          return cpu.usageCoreNanoSeconds!.value > first.usageCoreNanoSeconds!.value && cpu.usageNanoCores!.value > 0n ? cpu : undefined;
        },
        { what: 'CPU time growing', intervalMs: 100 },
      );
      // A busy loop on a loaded machine: some CPU, never more than every CPU of the host.
      assert.ok(later.usageNanoCores!.value <= BigInt(1e9 * 64), `${later.usageNanoCores!.value}`);
    });

    it('the writable layer grows by what is written into the rootfs; fs_id is the filesystem it lives on', async () => {
      const before = (await cri.runtime.containerStats({ containerId: filler })).stats!.writableLayer!;
      const r = await exec(filler, ['sh', '-c', 'dd if=/dev/urandom of=/written bs=1M count=8 2>/dev/null && sync']);
      assert.equal(r.exitCode, 0, r.stderr.toString());
      const after = (await cri.runtime.containerStats({ containerId: filler })).stats!.writableLayer!;
      assert.ok(
        after.usedBytes!.value >= before.usedBytes!.value + BigInt(8 * MiB),
        `${before.usedBytes!.value} → ${after.usedBytes!.value}`,
      );
      assert.ok(after.inodesUsed!.value > before.inodesUsed!.value);
      const mountpoint = (await runCommand('stat', ['-c', '%m', daemon.root])).stdout.trim();
      assert.equal(after.fsId?.mountpoint, mountpoint);
    });

    it('ListContainerStats: all, by ID, by sandbox ID, by label selector', async () => {
      const ids = async (filter?: Record<string, unknown>) =>
        (await cri.runtime.listContainerStats({ filter })).stats.map((s) => s.attributes!.id).sort();
      assert.deepEqual(await ids(), [filler, spinner].sort());
      assert.deepEqual(await ids({ id: filler }), [filler]);
      assert.deepEqual(await ids({ podSandboxId }), [filler, spinner].sort());
      assert.deepEqual(await ids({ podSandboxId: 'nope' }), []);
      assert.deepEqual(await ids({ labelSelector: { container: 'spinner' } }), [spinner]);
      assert.deepEqual(await ids({ labelSelector: { container: 'other' } }), []);
    });

    it('PodSandboxStats: the sums over the pod, its processes, its containers, and network counters after traffic', async () => {
      const ip = (await cri.runtime.podSandboxStatus({ podSandboxId })).status!.network!.ip;
      const before = (await cri.runtime.podSandboxStats({ podSandboxId })).stats!;
      const rxBefore = before.linux!.network!.defaultInterface!.rxBytes!.value;
      await waitFor(() => sendBytes(ip, 9000, 64 * 1024).catch(() => false), { what: 'the pod receiving 64 KiB', intervalMs: 100 });
      const s = await waitFor(
        async () => {
          const now = (await cri.runtime.podSandboxStats({ podSandboxId })).stats!;
          return now.linux!.network!.defaultInterface!.rxBytes!.value >= rxBefore + 64n * 1024n ? now : undefined;
        },
        { what: 'the received bytes counted', intervalMs: 100 },
      );
      assert.equal(s.attributes?.id, podSandboxId);
      assert.deepEqual(s.attributes?.metadata, config.metadata);
      const net = s.linux!.network!;
      assert.equal(net.defaultInterface?.name, 'eth0');
      assert.ok(net.interfaces.some((i) => i.name === 'eth0'));
      assert.ok(!net.interfaces.some((i) => i.name === 'lo'));
      assert.ok(net.defaultInterface.txBytes!.value > 0n);
      assert.ok(net.defaultInterface.rxErrors !== undefined);
      assert.deepEqual(s.linux!.containers.map((c) => c.attributes!.id).sort(), [filler, spinner].sort());
      // infra + sleep + the loop's shell, at least.
      assert.ok(s.linux!.process!.processCount!.value >= 3n, `${s.linux!.process!.processCount!.value}`);
      assert.ok(s.linux!.memory!.workingSetBytes!.value > BigInt(40 * MiB));
      const containerCpu = s.linux!.containers.reduce((a, c) => a + c.cpu!.usageCoreNanoSeconds!.value, 0n);
      assert.ok(s.linux!.cpu!.usageCoreNanoSeconds!.value >= containerCpu, 'the pod counts its containers');
      const listed = (await cri.runtime.listPodSandboxStats({ filter: { labelSelector: { app: 'stats' } } })).stats;
      assert.deepEqual(
        listed.map((x) => x.attributes!.id),
        [podSandboxId],
      );
      assert.deepEqual((await cri.runtime.listPodSandboxStats({ filter: { id: 'nope' } })).stats, []);
    });

    it('UpdateContainerResources: a memory limit and CPU shares reach the running cgroup, ContainerStatus and a restart', async () => {
      await cri.runtime.updateContainerResources({
        containerId: spinner,
        linux: { memoryLimitInBytes: BigInt(100 * MiB), cpuShares: 512n },
      });
      const limit = await cgroupFile(spinner, 'memory', 'memory.limit_in_bytes', 'memory.max');
      assert.equal(Number(limit), 100 * MiB);
      const layout = await cgroupLayout();
      if (layout.version === 1) assert.equal(await cgroupFile(spinner, 'cpu', 'cpu.shares', 'cpu.weight'), '512');
      const linux = (await cri.runtime.containerStatus({ containerId: spinner })).status!.resources!.linux!;
      assert.equal(linux.memoryLimitInBytes, BigInt(100 * MiB));
      assert.equal(linux.cpuShares, 512n);
      const stats = (await cri.runtime.containerStats({ containerId: spinner })).stats!;
      assert.ok(stats.memory!.availableBytes!.value > 0n, 'available bytes under a limit');
      // A second update keeps what it does not set.
      await cri.runtime.updateContainerResources({ containerId: spinner, linux: { memoryLimitInBytes: BigInt(120 * MiB) } });
      const again = (await cri.runtime.containerStatus({ containerId: spinner })).status!.resources!.linux!;
      assert.deepEqual([again.memoryLimitInBytes, again.cpuShares], [BigInt(120 * MiB), 512n]);
      // The record holds them: a new task of the container starts with them.
      await daemon.cli(['restart', '-t', '0', spinner]);
      assert.equal(Number(await cgroupFile(spinner, 'memory', 'memory.limit_in_bytes', 'memory.max')), 120 * MiB);
      if (layout.version === 1) assert.equal(await cgroupFile(spinner, 'cpu', 'cpu.shares', 'cpu.weight'), '512');
    });

    it('UpdateContainerResources: NOT_FOUND for an unknown container, FAILED_PRECONDITION for an exited one, INVALID_ARGUMENT for a bad limit', async () => {
      const unknown = await failure(cri.runtime.updateContainerResources({ containerId: 'nope', linux: { cpuShares: 2n } }));
      assert.equal(unknown.code, status.NOT_FOUND);
      const bad = await failure(cri.runtime.updateContainerResources({ containerId: filler, linux: { memoryLimitInBytes: 1024n } }));
      assert.equal(bad.code, status.INVALID_ARGUMENT);
      const { containerId } = await cri.runtime.createContainer({
        podSandboxId,
        config: containerConfig('done', 'true'),
        sandboxConfig: config,
      });
      // A created container: only its record changes, and its first task starts with it.
      await cri.runtime.updateContainerResources({ containerId, linux: { memoryLimitInBytes: BigInt(64 * MiB) } });
      await cri.runtime.startContainer({ containerId });
      await waitFor(async () => (await cri.runtime.containerStatus({ containerId })).status?.state === ContainerState.CONTAINER_EXITED, {
        what: 'the container exited',
      });
      const exited = await failure(cri.runtime.updateContainerResources({ containerId, linux: { cpuShares: 2n } }));
      assert.equal(exited.code, status.FAILED_PRECONDITION);
      assert.match(exited.details, /exited/);
      const linux = (await cri.runtime.containerStatus({ containerId })).status!.resources!.linux!;
      assert.equal(linux.memoryLimitInBytes, BigInt(64 * MiB));
      const memory = (await daemon.cli(['inspect', '--format', '{{.HostConfig.Memory}}', containerId])).stdout.trim();
      assert.equal(Number(memory), 64 * MiB, 'the container config holds the limit too');
      await cri.runtime.removeContainer({ containerId });
    });

    it("oom_score_adj from CreateContainer's resources is the process's (as a kubelet sets it per QoS class), zero included", async () => {
      const start = async (name: string, oomScoreAdj: bigint) => {
        const { containerId } = await cri.runtime.createContainer({
          podSandboxId,
          config: containerConfig(name, 'exec sleep 3600', { linux: { resources: { oomScoreAdj } } }),
          sandboxConfig: config,
        });
        await cri.runtime.startContainer({ containerId });
        return containerId;
      };
      // Lowering it needs CAP_SYS_RESOURCE: a gantryd without it (in a container, as on some CI
      // machines) gives its own value instead of a lower one, as containerd's restrict_oom_score_adj.
      const gantrydStatus = fs.readFileSync(`/proc/${daemon.process.pid}/status`, 'utf8');
      const capSysResource = (BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(gantrydStatus)![1]}`) >> 24n) & 1n;
      const own = Number(fs.readFileSync(`/proc/${daemon.process.pid}/oom_score_adj`, 'utf8'));
      const applied = (v: number) => String(capSysResource ? v : Math.max(v, own));
      const burstable = await start('burstable', 500n);
      const guaranteed = await start('guaranteed', -997n);
      const zero = await start('zero', 0n);
      for (const [id, asked] of [
        [burstable, 500],
        [guaranteed, -997],
        [zero, 0],
      ] as const) {
        // PID 1 of the container (its own PID namespace) and a process exec'd beside it.
        assert.equal((await exec(id, ['cat', '/proc/1/oom_score_adj'])).stdout.toString().trim(), applied(asked));
        assert.equal((await exec(id, ['cat', '/proc/self/oom_score_adj'])).stdout.toString().trim(), applied(asked));
        // What was asked for, as containerd shows it.
        assert.equal((await cri.runtime.containerStatus({ containerId: id })).status!.resources!.linux!.oomScoreAdj, BigInt(asked));
      }
      for (const id of [burstable, guaranteed, zero]) {
        await cri.runtime.stopContainer({ containerId: id, timeout: 0n });
        await cri.runtime.removeContainer({ containerId: id });
      }
    });

    it('stats of an unknown container or sandbox are NOT_FOUND', async () => {
      assert.equal((await failure(cri.runtime.containerStats({ containerId: 'nope' }))).code, status.NOT_FOUND);
      assert.equal((await failure(cri.runtime.podSandboxStats({ podSandboxId: 'nope' }))).code, status.NOT_FOUND);
    });
  });

  it('GetContainerEvents: created, started, stopped, deleted of a container in order, with the pod and its containers; nothing of Docker-style containers', async () => {
    const events = criEvents(path.join(daemon.state, 'cri.sock'));
    cleanup.defer(() => events.close());
    const next = (what: string) => within(events.next(), { what });
    const config = podConfig('events');
    const { podSandboxId } = await cri.runtime.runPodSandbox({ config });
    const sandboxCreated = await next('the sandbox created');
    assert.deepEqual(
      [sandboxCreated.containerId, sandboxCreated.containerEventType],
      [podSandboxId, ContainerEventType.CONTAINER_CREATED_EVENT],
    );
    const sandboxStarted = await next('the sandbox started');
    assert.deepEqual(
      [sandboxStarted.containerId, sandboxStarted.containerEventType],
      [podSandboxId, ContainerEventType.CONTAINER_STARTED_EVENT],
    );
    assert.equal(sandboxStarted.podSandboxStatus?.state, PodSandboxState.SANDBOX_READY);

    // A Docker-style container's events are not sent.
    const docker = (await daemon.cli(['create', pushed.ref, 'true'])).stdout.trim();
    await daemon.cli(['rm', docker]);

    const { containerId } = await cri.runtime.createContainer({
      podSandboxId,
      config: containerConfig('short', 'exec sleep 3600'),
      sandboxConfig: config,
    });
    const created = await next('created');
    assert.deepEqual([created.containerId, created.containerEventType], [containerId, ContainerEventType.CONTAINER_CREATED_EVENT]);
    assert.equal(created.podSandboxStatus?.id, podSandboxId);
    assert.deepEqual(created.podSandboxStatus?.metadata, config.metadata);
    assert.ok(created.createdAt > 0n);
    assert.deepEqual(
      created.containersStatuses.map((s) => s.id),
      [containerId],
    );

    await cri.runtime.startContainer({ containerId });
    const started = await next('started');
    assert.deepEqual([started.containerId, started.containerEventType], [containerId, ContainerEventType.CONTAINER_STARTED_EVENT]);
    assert.equal(started.containersStatuses[0]?.state, ContainerState.CONTAINER_RUNNING);

    await cri.runtime.stopContainer({ containerId, timeout: 0n });
    const stopped = await next('stopped');
    assert.deepEqual([stopped.containerId, stopped.containerEventType], [containerId, ContainerEventType.CONTAINER_STOPPED_EVENT]);
    assert.equal(stopped.containersStatuses[0]?.state, ContainerState.CONTAINER_EXITED);
    assert.ok(stopped.createdAt >= started.createdAt);

    await cri.runtime.removeContainer({ containerId });
    const deleted = await next('deleted');
    assert.deepEqual([deleted.containerId, deleted.containerEventType], [containerId, ContainerEventType.CONTAINER_DELETED_EVENT]);
    assert.equal(deleted.podSandboxStatus?.id, podSandboxId);
    assert.deepEqual(deleted.containersStatuses, []);

    await cri.runtime.stopPodSandbox({ podSandboxId });
    const infraStopped = await next('the sandbox stopped');
    assert.deepEqual(
      [infraStopped.containerId, infraStopped.containerEventType],
      [podSandboxId, ContainerEventType.CONTAINER_STOPPED_EVENT],
    );
    assert.equal(infraStopped.podSandboxStatus?.state, PodSandboxState.SANDBOX_NOTREADY);
    await cri.runtime.removePodSandbox({ podSandboxId });
    const infraDeleted = await next('the sandbox deleted');
    assert.deepEqual(
      [infraDeleted.containerId, infraDeleted.containerEventType],
      [podSandboxId, ContainerEventType.CONTAINER_DELETED_EVENT],
    );
    assert.deepEqual(infraDeleted.podSandboxStatus?.metadata, config.metadata, 'the last status of a removed sandbox');
  });
});
