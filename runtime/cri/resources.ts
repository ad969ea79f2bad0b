/**
 * The CRI's Linux container resources (`LinuxContainerResources`) at
 * CreateContainer and UpdateContainerResources: one mapping onto OCI
 * `linux.resources`, used both for the spec a container starts with (the
 * container config's `cgroupResources`, merged by runtime/oci/specgen/) and
 * for `runc update` of a running task, so a restart gives what an update
 * gave. docs/cri.md, "Resources".
 *
 * Rules
 * - Zero means "not set", as in the CRI: a zero field leaves the current
 *   value alone (runc update changes only what it is given).
 * - A memory limit without a swap limit gets the swap limit `gantry run -m`
 *   gives (twice the limit) where the host accounts swap: on cgroup v1 a
 *   memory limit above the current memory+swap limit is refused otherwise.
 * - `oom_score_adj` is the process's (the spec's `process.oomScoreAdj`), set
 *   at create as containerd does, zero included; an update keeps it for the
 *   next start but cannot change the running process (it is not a cgroup
 *   limit, and runc update has no such flag). Lowering it below gantryd's
 *   own needs CAP_SYS_RESOURCE; without it (gantryd itself in a container,
 *   rootless) the kernel refuses and runc create fails, so it is clamped to
 *   gantryd's own value, as containerd's `restrict_oom_score_adj` does.
 */
import * as fs from 'node:fs';
import type { ContainerConfig } from '../containers/containers';
import { invalidArgument } from '../errdefs/errdefs';
import type { Resources } from '../oci/spec';
import type { LinuxContainerResources } from './gen/runtime/v1/api';

/** LinuxContainerResources in JSON-safe numbers, as kept in the CRI record (records.ts). */
export interface CriResources {
  readonly cpuPeriod: number;
  readonly cpuQuota: number;
  readonly cpuShares: number;
  readonly memoryLimitInBytes: number;
  readonly oomScoreAdj: number;
  readonly cpusetCpus: string;
  readonly cpusetMems: string;
  readonly hugepageLimits: readonly { readonly pageSize: string; readonly limit: number }[];
  readonly unified: Readonly<Record<string, string>>;
  readonly memorySwapLimitInBytes: number;
}

/** The kernel's smallest memory limit that runc accepts (as `gantry run -m`). */
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const int = (name: string, v: bigint | undefined): number => {
  const n = Number(v ?? 0n);
  if (!Number.isSafeInteger(n) || n < 0) throw invalidArgument(`invalid ${name} ${String(v)}`);
  return n;
};

/** The request's resources, checked; absent: none. */
export function criResourcesOf(r: LinuxContainerResources | undefined): CriResources {
  const memory = int('memory_limit_in_bytes', r?.memoryLimitInBytes);
  if (memory > 0 && memory < MIN_MEMORY_BYTES) throw invalidArgument('memory_limit_in_bytes: the minimum memory limit is 6MB');
  const quota = int('cpu_quota', r?.cpuQuota);
  if (quota > 0 && quota < 1000) throw invalidArgument('cpu_quota: the minimum is 1000 (1 ms)');
  const oom = Number(r?.oomScoreAdj ?? 0n);
  if (!Number.isSafeInteger(oom) || oom < -1000 || oom > 1000) throw invalidArgument(`invalid oom_score_adj ${String(r?.oomScoreAdj)}`);
  return {
    cpuPeriod: int('cpu_period', r?.cpuPeriod),
    cpuQuota: quota,
    cpuShares: int('cpu_shares', r?.cpuShares),
    memoryLimitInBytes: memory,
    oomScoreAdj: oom,
    cpusetCpus: r?.cpusetCpus ?? '',
    cpusetMems: r?.cpusetMems ?? '',
    hugepageLimits: (r?.hugepageLimits ?? []).map((h) => {
      if (!/^\d+[KMG]B$/.test(h.pageSize)) throw invalidArgument(`invalid hugepage size ${JSON.stringify(h.pageSize)}`);
      return { pageSize: h.pageSize, limit: int('hugepage limit', h.limit) };
    }),
    unified: { ...r?.unified },
    memorySwapLimitInBytes: int('memory_swap_limit_in_bytes', r?.memorySwapLimitInBytes),
  };
}

/** Back to the wire (ContainerStatus.resources). */
export function linuxContainerResourcesOf(r: CriResources): LinuxContainerResources {
  return {
    cpuPeriod: BigInt(r.cpuPeriod),
    cpuQuota: BigInt(r.cpuQuota),
    cpuShares: BigInt(r.cpuShares),
    memoryLimitInBytes: BigInt(r.memoryLimitInBytes),
    oomScoreAdj: BigInt(r.oomScoreAdj),
    cpusetCpus: r.cpusetCpus,
    cpusetMems: r.cpusetMems,
    hugepageLimits: r.hugepageLimits.map((h) => ({ pageSize: h.pageSize, limit: BigInt(h.limit) })),
    unified: { ...r.unified },
    memorySwapLimitInBytes: BigInt(r.memorySwapLimitInBytes),
  };
}

/** The OCI `linux.resources` the CRI's resources set (only what is set). */
export function ociResourcesOf(r: CriResources, swapAccounting: boolean): Pick<Resources, 'memory' | 'cpu' | 'hugepageLimits' | 'unified'> {
  const out: Pick<Resources, 'memory' | 'cpu' | 'hugepageLimits' | 'unified'> = {};
  if (r.memoryLimitInBytes > 0) {
    const swap = r.memorySwapLimitInBytes > 0 ? r.memorySwapLimitInBytes : 2 * r.memoryLimitInBytes;
    out.memory = swapAccounting ? { limit: r.memoryLimitInBytes, swap } : { limit: r.memoryLimitInBytes };
  }
  const cpu: NonNullable<Resources['cpu']> = {};
  if (r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.cpuQuota > 0) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.hugepageLimits.length) out.hugepageLimits = r.hugepageLimits.map((h) => ({ ...h }));
  if (Object.keys(r.unified).length) out.unified = { ...r.unified };
  return out;
}

/** The container config's resource fields: `gantry inspect`'s memory and CPU limits, the exact OCI values over them, and oom_score_adj. */
export function configResourcesOf(
  r: CriResources,
  swapAccounting: boolean,
  oomFloor: number | null = ownOomScoreFloor(),
): Pick<ContainerConfig, 'memoryBytes' | 'nanoCpus' | 'cgroupResources' | 'oomScoreAdj'> {
  const period = r.cpuPeriod || 100_000;
  return {
    memoryBytes: r.memoryLimitInBytes,
    nanoCpus: r.cpuQuota > 0 ? Math.round((r.cpuQuota * 1e9) / period) : 0,
    cgroupResources: ociResourcesOf(r, swapAccounting),
    oomScoreAdj: oomFloor === null ? r.oomScoreAdj : Math.max(r.oomScoreAdj, oomFloor),
  };
}

/**
 * An update over the current resources: the fields the update sets replace
 * the current ones, zero fields keep them (as runc update does to the cgroup).
 */
export function mergeResources(current: CriResources | undefined, update: CriResources): CriResources {
  if (!current) return update;
  const pick = <T>(u: T, c: T, unset: T): T => (u === unset ? c : u);
  return {
    cpuPeriod: pick(update.cpuPeriod, current.cpuPeriod, 0),
    cpuQuota: pick(update.cpuQuota, current.cpuQuota, 0),
    cpuShares: pick(update.cpuShares, current.cpuShares, 0),
    memoryLimitInBytes: pick(update.memoryLimitInBytes, current.memoryLimitInBytes, 0),
    oomScoreAdj: pick(update.oomScoreAdj, current.oomScoreAdj, 0),
    cpusetCpus: pick(update.cpusetCpus, current.cpusetCpus, ''),
    cpusetMems: pick(update.cpusetMems, current.cpusetMems, ''),
    hugepageLimits: update.hugepageLimits.length ? update.hugepageLimits : current.hugepageLimits,
    unified: { ...current.unified, ...update.unified },
    // A new memory limit without a swap limit gets the default swap again, never a swap limit below it.
    memorySwapLimitInBytes: update.memoryLimitInBytes > 0 ? update.memorySwapLimitInBytes : current.memorySwapLimitInBytes,
  };
}

/** CAP_SYS_RESOURCE's bit in /proc/<pid>/status CapEff. */
const CAP_SYS_RESOURCE = 24n;
let cachedOomFloor: { value: number | null } | undefined;

/**
 * The lowest oom_score_adj this gantryd may give a container: null
 * when it holds CAP_SYS_RESOURCE (any value), else its own (see the rules
 * at the top). Read once: neither changes while gantryd runs.
 */
export function ownOomScoreFloor(): number | null {
  if (!cachedOomFloor) {
    try {
      const status = fs.readFileSync('/proc/self/status', 'utf8');
      const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
      const own = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
      cachedOomFloor = { value: (capEff >> CAP_SYS_RESOURCE) & 1n ? null : own };
    } catch {
      cachedOomFloor = { value: null };
    }
  }
  return cachedOomFloor.value;
}
