/**
 * The runtime spec of a container of a rootless gantryd (docs/rootless.md).
 * The daemon is uid 0 of a user namespace RootlessKit made, and the container
 * shares that namespace (runc sees it and runs rootless). What the kernel
 * does not let such a "root" do is left out or replaced:
 *
 * - cgroups: no delegated cgroup v2 tree we could write to is used, so there
 *   is no cgroupsPath (runc then skips cgroups without error) and no
 *   resources; a container that asks for a limit (`-m`, `--cpus`,
 *   `--pids-limit`) is refused at create saying why — never silently run
 *   without it.
 * - sysfs belongs to the network namespace's owner: a container on the
 *   namespace's own network (`host`) cannot mount a new one, so it gets a
 *   read-only recursive bind of /sys instead (as rootless Podman does).
 * - cgroupfs cannot be mounted in a user namespace on cgroup v1: the
 *   container gets a read-only bind of /sys/fs/cgroup.
 * - `net.ipv4.ping_group_range` may only name gids mapped in the namespace.
 */
import { failedPrecondition } from '../../errdefs/errdefs';
import type { ContainerConfig } from '../../containers/containers';
import type { Spec } from '../spec';

export interface RootlessSpecInput {
  readonly config: Pick<ContainerConfig, 'memoryBytes' | 'nanoCpus' | 'pidsLimit' | 'network'>;
  /** The host mounts cgroup v2 only (/sys/fs/cgroup/cgroup.controllers). */
  readonly cgroupV2: boolean;
  /** gids mapped in the daemon's namespace from 0 on (/proc/self/gid_map). */
  readonly mappedGids: number;
}

/** Why cgroup limits cannot be set by this rootless daemon, for the refusal of `-m`, `--cpus`, `--pids-limit`. */
export function rootlessLimitsUnavailable(cgroupV2: boolean): string {
  return cgroupV2
    ? 'rootless gantryd does not set cgroup limits yet (a delegated cgroup v2 tree is not used; docs/rootless.md)'
    : 'this host uses cgroup v1, which cannot be delegated to a user: rootless containers cannot have cgroup limits (run gantryd as root, or boot with cgroup v2 and systemd delegation)';
}

/** Refuses a container that needs cgroup limits; FailedPrecondition naming the flag and the reason. */
export function checkRootlessLimits(config: RootlessSpecInput['config'], cgroupV2: boolean): void {
  const asked = [
    config.memoryBytes > 0 ? '-m/--memory' : '',
    config.nanoCpus > 0 ? '--cpus' : '',
    config.pidsLimit > 0 ? '--pids-limit' : '',
  ].filter(Boolean);
  if (asked.length) throw failedPrecondition(`${asked.join(', ')}: ${rootlessLimitsUnavailable(cgroupV2)}`);
}

export function applyRootless(spec: Spec, input: RootlessSpecInput): Spec {
  checkRootlessLimits(input.config, input.cgroupV2);
  const linux = (spec.linux ??= {});
  delete linux.cgroupsPath;
  delete linux.resources;
  const hostNetwork = input.config.network === 'host';
  const ro = ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'];
  for (const m of spec.mounts ?? []) {
    if (m.destination === '/sys' && m.type === 'sysfs' && hostNetwork) Object.assign(m, { type: 'bind', source: '/sys', options: ro });
    if (m.destination === '/sys/fs/cgroup' && m.type === 'cgroup' && !input.cgroupV2) {
      Object.assign(m, { type: 'bind', source: '/sys/fs/cgroup', options: ro });
    }
  }
  if (linux.sysctl?.['net.ipv4.ping_group_range'] !== undefined) {
    linux.sysctl['net.ipv4.ping_group_range'] = `0 ${Math.max(0, input.mappedGids - 1)}`;
  }
  return spec;
}

/** How many gids from 0 on a `/proc/self/gid_map` text maps contiguously. */
export function mappedFromZero(idMap: string): number {
  const rows = idMap
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((r) => r.length === 3 && r.every(Number.isSafeInteger))
    .sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [inside, , size] of rows) if (inside === next) next += size;
  return next;
}
