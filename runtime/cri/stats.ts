/**
 * CRI statistics: `ContainerStats`, `ListContainerStats`, `PodSandboxStats`,
 * `ListPodSandboxStats`, read from each container's cgroup by the reader
 * that `gantry stats` uses (runtime/tasks/stats.ts), so there is one cgroup
 * reader. docs/cri.md, "Statistics".
 *
 * Rules (the kubelet's expectations, as containerd answers them)
 * - `usage_core_nano_seconds` is the cgroup's cumulative CPU time;
 *   `usage_nano_cores` is the rate between this sample and the previous one
 *   of the same container (or pod): Δusage / Δtime in ns per second. The
 *   first sample has no previous one and answers 0.
 * - `working_set_bytes` is usage minus inactive file pages (what the
 *   kubelet evicts on); `available_bytes` only under a memory limit.
 * - A container whose task does not run (created, exited) has no cgroup:
 *   its stats carry its attributes and writable layer only.
 * - A pod's CPU, memory and process count are the sums over its infra and
 *   its running containers (each has a cgroup of its own, there is no pod
 *   cgroup); its network is the interfaces of its network namespace, read
 *   through the infra's /proc/<pid>/net/dev (none for a `NODE` network pod).
 */
import type { Ctx } from '../context';
import type { Container } from '../containers/containers';
import { isNotFound } from '../errdefs/errdefs';
import { type ContainerStats as TaskStats, readInterfaces } from '../tasks/stats';
import type { CriPodDeps } from './cri';
import {
  NamespaceMode,
  type ContainerStats,
  type ContainerStatsFilter,
  type CpuUsage,
  type MemoryUsage,
  type NetworkUsage,
  type PodSandboxStats,
  type PodSandboxStatsFilter,
  type UInt64Value,
} from './gen/runtime/v1/api';
import type { CriContainers } from './podContainers';
import { CRI_NAMESPACE_FILTER, containerRecordOf, sandboxRecordOf, selects, type SandboxRecord } from './records';
import type { CriSandboxes } from './sandboxes';

/** The interface a pod's network stats call its default one (as containerd's). */
const DEFAULT_INTERFACE = 'eth0';

const u64 = (n: number): UInt64Value => ({ value: BigInt(Math.max(0, Math.round(n))) });

/** The previous CPU sample of a container or pod: cumulative usage and a monotonic clock, both in ns. */
interface CpuSample {
  readonly usageNs: number;
  readonly clockNs: bigint;
}

export class CriStats {
  /** Keyed `c:<id>` (a container) and `p:<id>` (a pod): the two rates are apart, as the two RPCs' callers are. */
  private readonly previous = new Map<string, CpuSample>();

  constructor(
    private readonly deps: Pick<CriPodDeps, 'service' | 'cgroupStats' | 'writableLayer'>,
    private readonly containers: CriContainers,
    private readonly sandboxes: CriSandboxes,
  ) {}

  async container(ctx: Ctx, ref: string): Promise<ContainerStats> {
    const { container } = this.containers.find(ref);
    return this.containerStats(ctx, container, await this.sample(container));
  }

  async listContainers(ctx: Ctx, filter: ContainerStatsFilter | undefined): Promise<ContainerStats[]> {
    const out: ContainerStats[] = [];
    const seen = new Set<string>();
    for (const c of this.deps.service.list(true, [CRI_NAMESPACE_FILTER])) {
      const r = containerRecordOf(c);
      if (!r) continue;
      if (filter?.id && !c.id.startsWith(filter.id)) continue;
      if (filter?.podSandboxId && !r.sandboxId.startsWith(filter.podSandboxId)) continue;
      if (filter && !selects(filter.labelSelector, r.labels)) continue;
      seen.add(`c:${c.id}`);
      out.push(await this.containerStats(ctx, c, await this.sample(c)));
    }
    if (!filter?.id && !filter?.podSandboxId) this.forget('c:', seen);
    return out;
  }

  async sandbox(ctx: Ctx, ref: string): Promise<PodSandboxStats> {
    const { infra, record } = this.sandboxes.find(ref);
    return this.sandboxStats(ctx, infra, record);
  }

  async listSandboxes(ctx: Ctx, filter: PodSandboxStatsFilter | undefined): Promise<PodSandboxStats[]> {
    const out: PodSandboxStats[] = [];
    const seen = new Set<string>();
    for (const infra of this.deps.service.list(true, [CRI_NAMESPACE_FILTER])) {
      const record = sandboxRecordOf(infra);
      if (!record) continue;
      if (filter?.id && !infra.id.startsWith(filter.id)) continue;
      if (filter && !selects(filter.labelSelector, record.labels)) continue;
      seen.add(`p:${infra.id}`);
      out.push(await this.sandboxStats(ctx, infra, record));
    }
    if (!filter?.id) this.forget('p:', seen);
    return out;
  }

  private async sandboxStats(ctx: Ctx, infra: Container, record: SandboxRecord): Promise<PodSandboxStats> {
    const members = this.sandboxes.containersOf(infra.id);
    const infraSample = await this.sample(infra);
    const samples = await Promise.all(members.map(async (c) => ({ c, s: await this.sample(c) })));
    const containers = await Promise.all(samples.map(({ c, s }) => this.containerStats(ctx, c, s)));
    const live = [infraSample, ...samples.map((x) => x.s)].filter((s): s is TaskStats => s !== undefined);
    const now = timestampNs();
    let cpu: CpuUsage | undefined;
    let memory: MemoryUsage | undefined;
    let processCount = 0;
    if (live.length > 0) {
      const sum = (f: (s: TaskStats) => number) => live.reduce((a, s) => a + f(s), 0);
      const usageNs = sum((s) => s.cpu.usageNs);
      cpu = { timestamp: now, usageCoreNanoSeconds: u64(usageNs), usageNanoCores: u64(this.rate(`p:${infra.id}`, usageNs)) };
      const workingSet = sum((s) => s.memory.used);
      memory = {
        timestamp: now,
        workingSetBytes: u64(workingSet),
        availableBytes: undefined,
        usageBytes: u64(sum((s) => s.memory.usage)),
        rssBytes: u64(sum((s) => s.memory.rss)),
        pageFaults: u64(sum((s) => s.memory.pageFaults)),
        majorPageFaults: u64(sum((s) => s.memory.majorPageFaults)),
      };
      processCount = sum((s) => s.pids.current);
    }
    return {
      attributes: { id: infra.id, metadata: record.metadata, labels: record.labels, annotations: record.annotations },
      linux: {
        cpu,
        memory,
        network: await this.networkOf(infra, record, now),
        process: live.length > 0 ? { timestamp: now, processCount: u64(processCount) } : undefined,
        containers,
      },
      windows: undefined,
    };
  }

  /** The pod's interfaces, read inside its network namespace through the infra's pid; none with the host's network. */
  private async networkOf(infra: Container, record: SandboxRecord, now: bigint): Promise<NetworkUsage | undefined> {
    if (record.namespaces.network === NamespaceMode.NODE || infra.state.status !== 'running' || !infra.state.pid) return undefined;
    const interfaces = await readInterfaces(infra.state.pid);
    if (!interfaces) return undefined;
    const usage = interfaces.map((i) => ({
      name: i.name,
      rxBytes: u64(i.rxBytes),
      rxErrors: u64(i.rxErrors),
      txBytes: u64(i.txBytes),
      txErrors: u64(i.txErrors),
    }));
    return { timestamp: now, defaultInterface: usage.find((i) => i.name === DEFAULT_INTERFACE) ?? usage[0], interfaces: usage };
  }

  private async containerStats(ctx: Ctx, c: Container, s: TaskStats | undefined): Promise<ContainerStats> {
    const r = containerRecordOf(c);
    const now = timestampNs();
    const layer = await this.deps.writableLayer(ctx, c).catch((e: unknown) => {
      if (isNotFound(e)) return undefined; // removed meanwhile
      throw e;
    });
    return {
      attributes: { id: c.id, metadata: r?.metadata, labels: r?.labels ?? {}, annotations: r?.annotations ?? {} },
      cpu: s
        ? { timestamp: now, usageCoreNanoSeconds: u64(s.cpu.usageNs), usageNanoCores: u64(this.rate(`c:${c.id}`, s.cpu.usageNs)) }
        : undefined,
      memory: s
        ? {
            timestamp: now,
            workingSetBytes: u64(s.memory.used),
            availableBytes: s.memory.limited ? u64(s.memory.limit - s.memory.used) : undefined,
            usageBytes: u64(s.memory.usage),
            rssBytes: u64(s.memory.rss),
            pageFaults: u64(s.memory.pageFaults),
            majorPageFaults: u64(s.memory.majorPageFaults),
          }
        : undefined,
      writableLayer: layer
        ? {
            timestamp: now,
            fsId: { mountpoint: layer.mountpoint },
            usedBytes: u64(layer.usedBytes),
            inodesUsed: u64(layer.inodesUsed),
          }
        : undefined,
      swap: undefined,
    };
  }

  /** The cgroup sample of a container whose task runs; undefined when it has none (created, exited, gone meanwhile). */
  private async sample(c: Container): Promise<TaskStats | undefined> {
    if (c.state.status !== 'running' && c.state.status !== 'paused') return undefined;
    try {
      return await this.deps.cgroupStats(c);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** ns of CPU per second since the previous sample under `key`; 0 for the first. */
  private rate(key: string, usageNs: number): number {
    const clockNs = process.hrtime.bigint();
    const prev = this.previous.get(key);
    this.previous.set(key, { usageNs, clockNs });
    if (!prev) return 0;
    const elapsed = Number(clockNs - prev.clockNs);
    const used = usageNs - prev.usageNs;
    return elapsed > 0 && used > 0 ? (used / elapsed) * 1e9 : 0;
  }

  /** Drops the samples of containers or pods a full list no longer has. */
  private forget(prefix: string, seen: ReadonlySet<string>): void {
    for (const key of this.previous.keys()) if (key.startsWith(prefix) && !seen.has(key)) this.previous.delete(key);
  }
}

function timestampNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
