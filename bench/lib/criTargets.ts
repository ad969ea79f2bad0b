// The two CRI runtimes bench/cri.ts compares, each driven through its CRI
// socket by the tests' client (test/helpers/criClient.ts, grpc-js as a
// kubelet is one): gantryd with its pod network on a bridge and subnet of
// the run's own, and a containerd 1.6 with its CRI plugin enabled in a fresh
// root/state (never the system containerd), Debian's CNI plugins and a
// bridge conflist of the run's own, its sandbox (pause) image pulled from
// the run's loopback registry. Everything either makes is removed at the
// end and on Ctrl-C: pods (through CRI), the daemons, runc state and shims
// left behind, the bridges and their rules.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContainerState, PodSandboxState, SecurityProfile_ProfileType } from '../../runtime/cri/gen/runtime/v1/api';
import { removeBridge } from '../../runtime/network/bridges';
import { criClient, type CriClient } from '../../test/helpers/criClient';
import { forceCleanupRunc, noteLeftovers } from './containerRuntime';
import { startContainerd, startGantryd } from './daemons';
import { cleanup } from './harness';
import { daemonAndMonitors, runtimeMemory, type ProcMem, type RuntimeMemory } from './procmem';

export const CRI_TARGETS = ['gantry', 'containerd'] as const;
export type CriTargetId = (typeof CRI_TARGETS)[number];

export interface CriTarget {
  id: CriTargetId;
  cri: CriClient;
  /** The busybox image as the runtime names it after PullImage (what a kubelet passes to CreateContainer). */
  image: string;
  /** The runtime's own processes: the daemon (and what it forked), the per-container monitors. */
  processes(): Promise<{ daemon: number[]; monitors: number[] }>;
}

export interface CriMemory extends RuntimeMemory {
  /** The pods' infra processes (gantry: catatonit -P; containerd: the pause image's catatonit -P). */
  infra: ProcMem[];
  infraPssKiB: number;
  /** daemon + monitors + infra. */
  allPssKiB: number;
}

/** A bridge name (≤ 15 characters) and a /24 of the run's own, from the work dir. */
function podNet(work: string, prefix: string, secondOctet: number): { bridge: string; subnet: string } {
  const h = createHash('sha256')
    .update(work + prefix)
    .digest();
  return { bridge: `${prefix}${h.subarray(0, 3).toString('hex')}`, subnet: `10.${secondOctet + (h[3] & 3)}.${h[4]}.0/24` };
}

/** Stops and removes every pod sandbox the runtime still has (their containers go with them). */
async function removeAllPods(cri: CriClient): Promise<number> {
  const { items } = await cri.runtime.listPodSandbox({});
  for (const p of items) {
    await cri.runtime.stopPodSandbox({ podSandboxId: p.id });
    await cri.runtime.removePodSandbox({ podSandboxId: p.id });
  }
  return items.length;
}

export async function setupGantry(work: string, gantryJs: string, imageRef: string): Promise<CriTarget> {
  const dir = path.join(work, 'gantry');
  const net = podNet(work, 'gbcg', 240);
  cleanup.defer(() => removeBridge(net.bridge).catch(() => undefined));
  const gantryd = await startGantryd(dir, { gantryJs, args: ['--cri-pod-bridge', net.bridge, '--cri-pod-subnet', net.subnet] });
  cleanup.defer(() => gantryd.stop());
  const cri = criClient(path.join(dir, 'state', 'cri.sock'));
  cleanup.defer(async () => {
    const left = await removeAllPods(cri).catch(() => 0);
    if (left) process.stderr.write(`cleanup: gantry had ${left} pod(s) left; removed\n`);
    cri.close();
  });
  const { imageRef: image } = await cri.images.pullImage({ image: { image: imageRef } });
  return {
    id: 'gantry',
    cri,
    image,
    processes: () => daemonAndMonitors(gantryd.proc.pid, 'conmon', dir, ['catatonit']),
  };
}

export async function setupContainerd(work: string, registryHost: string, pauseRef: string, imageRef: string): Promise<CriTarget> {
  const dir = path.join(work, 'containerd');
  const net = podNet(work, 'gbcc', 244);
  const cniConfDir = path.join(dir, 'cni');
  const runcRoot = path.join(dir, 'runc');
  await fs.promises.mkdir(cniConfDir, { recursive: true });
  // containerd's own example conflist (bridge + host-local + portmap), with the run's bridge, subnet and IPAM dir.
  await fs.promises.writeFile(
    path.join(cniConfDir, '10-bench.conflist'),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: `bench-cri-${net.bridge}`,
      plugins: [
        {
          type: 'bridge',
          bridge: net.bridge,
          isGateway: true,
          ipMasq: true,
          promiscMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: net.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(dir, 'ipam') },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
  cleanup.defer(() => removeBridge(net.bridge).catch(() => undefined));
  // After containerd stops (the stack is LIFO): runc state and shims it left, if any.
  cleanup.defer(async () => noteLeftovers('containerd', await forceCleanupRunc(path.join(runcRoot, 'k8s.io'), 'containerd-shim*', dir)));
  const containerd = await startContainerd(dir, {
    sandboxImage: pauseRef,
    plainHttpRegistry: registryHost,
    cniBinDir: '/usr/lib/cni',
    cniConfDir,
    runcRoot,
  });
  cleanup.defer(() => containerd.stop());
  const cri = criClient(containerd.socket);
  cleanup.defer(async () => {
    const left = await removeAllPods(cri).catch(() => 0);
    if (left) process.stderr.write(`cleanup: containerd had ${left} pod(s) left; removed\n`);
    cri.close();
  });
  // The pause image is pulled before the clock, as a node has it before its first pod.
  await cri.images.pullImage({ image: { image: pauseRef } });
  const { imageRef: image } = await cri.images.pullImage({ image: { image: imageRef } });
  return {
    id: 'containerd',
    cri,
    image,
    processes: () => daemonAndMonitors(containerd.proc.pid, 'containerd-shim*', dir),
  };
}

let podSeq = 0;

/**
 * The seccomp profile the pods and their containers ask for, as a kubelet
 * always says it: `runtime-default` (a kubelet with `--seccomp-default`, or
 * a pod's `seccompProfile: RuntimeDefault`), `unconfined` (a kubelet's
 * default for a pod that names none), or `unset` (the field left out: each
 * runtime's own default — containerd 1.6 then runs unconfined).
 */
export const SECCOMP_CHOICES = ['runtime-default', 'unconfined', 'unset'] as const;
export type SeccompChoice = (typeof SECCOMP_CHOICES)[number];

function securityContextOf(seccomp: SeccompChoice) {
  if (seccomp === 'unset') return {};
  const profileType = seccomp === 'runtime-default' ? SecurityProfile_ProfileType.RuntimeDefault : SecurityProfile_ProfileType.Unconfined;
  return { linux: { securityContext: { seccomp: { profileType, localhostRef: '' } } } };
}

/** A pod's config as a kubelet would send it (no cgroup parent; of the security context, only the seccomp profile). */
export function podConfig(logRoot: string, name: string, seccomp: SeccompChoice = 'runtime-default') {
  const uid = `${process.pid}-${++podSeq}`;
  return {
    metadata: { name, namespace: 'bench', uid, attempt: 0 },
    hostname: name,
    logDirectory: path.join(logRoot, uid),
    labels: { app: name },
    ...securityContextOf(seccomp),
  };
}

/** RunPodSandbox, then CreateContainer + StartContainer of `containers` `sleep 3600`s, one call after the other. */
export async function runPod(
  t: CriTarget,
  config: ReturnType<typeof podConfig>,
  containers: number,
  seccomp: SeccompChoice = 'runtime-default',
): Promise<string> {
  const { podSandboxId } = await t.cri.runtime.runPodSandbox({ config });
  for (let i = 0; i < containers; i++) {
    const { containerId } = await t.cri.runtime.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: `c${i}`, attempt: 0 },
        image: { image: t.image },
        command: ['sleep', '3600'],
        logPath: `c${i}.log`,
        ...securityContextOf(seccomp),
      },
    });
    await t.cri.runtime.startContainer({ containerId });
  }
  return podSandboxId;
}

export async function removePod(t: CriTarget, podSandboxId: string): Promise<void> {
  await t.cri.runtime.stopPodSandbox({ podSandboxId });
  await t.cri.runtime.removePodSandbox({ podSandboxId });
}

/** Fails unless the runtime reports exactly `pods` ready sandboxes and `containers` running containers. */
export async function checkRunning(t: CriTarget, pods: number, containers: number): Promise<void> {
  const ready = (await t.cri.runtime.listPodSandbox({})).items.filter((p) => p.state === PodSandboxState.SANDBOX_READY).length;
  const running = (await t.cri.runtime.listContainers({})).containers.filter((c) => c.state === ContainerState.CONTAINER_RUNNING).length;
  if (ready !== pods || running !== containers) {
    throw new Error(`${t.id}: ${ready} ready pod(s) and ${running} running container(s), expected ${pods} and ${containers}`);
  }
}

/** The infra process of a sandbox, from PodSandboxStatus's verbose info (both runtimes give `pid` there). */
async function infraPid(t: CriTarget, podSandboxId: string): Promise<number> {
  const s = await t.cri.runtime.podSandboxStatus({ podSandboxId, verbose: true });
  const pid = (JSON.parse(s.info.info ?? '{}') as { pid?: number }).pid;
  if (!pid) throw new Error(`${t.id}: no infra pid for sandbox ${podSandboxId}`);
  return pid;
}

/** PSS of the runtime with `pods` running: daemon + monitors + the pods' infra processes. */
export async function criMemory(t: CriTarget, pods: readonly string[]): Promise<CriMemory> {
  const { daemon, monitors } = await t.processes();
  const infraPids = await Promise.all(pods.map((p) => infraPid(t, p)));
  const mem = await runtimeMemory(daemon, monitors);
  const infra = (await runtimeMemory([], infraPids)).monitors;
  if (infra.length !== pods.length) throw new Error(`${t.id}: ${infra.length} of ${pods.length} infra processes found`);
  const infraPssKiB = infra.reduce((a, m) => a + m.pssKiB, 0);
  return { ...mem, infra, infraPssKiB, allPssKiB: mem.totalPssKiB + infraPssKiB };
}
