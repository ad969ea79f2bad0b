/**
 * Privilege options of a container, Docker's way: `--privileged`,
 * `--device`, `--cgroupns`, and the user namespace of the daemon's
 * `--userns-remap`. Pure: `applyPrivileges` reshapes the spec buildSpec
 * made, from facts the launcher gathered first (host devices, the cgroup
 * version, the daemon's capabilities and ID mapping; hostdevices.ts does
 * that I/O).
 *
 * Rules (moby daemon/oci_linux.go, cli opts/parse.go):
 * - Privileged: every capability the daemon holds (cap-add/cap-drop are
 *   ignored, as Docker ignores them), every device node under the host's
 *   /dev (hostdevices.ts), a device cgroup that allows everything, no masked
 *   or read-only paths, /sys and /sys/fs/cgroup writable unless the rootfs
 *   is read-only, no seccomp filter and no AppArmor profile (unconfined).
 *   The seccomp profile is chosen from the config (`config.privileged`) by
 *   whoever builds it; the spec's `linux.seccomp` is cleared here as well.
 * - `--device`: each node is created in the container (runc mknods it, or
 *   bind-mounts it inside a user namespace) and allowed in the device
 *   cgroup with its permissions, after the default rules.
 * - cgroupns: `private` gives the container a cgroup namespace (its
 *   /proc/self/cgroup paths read `/`), `host` shares the host's. Unset
 *   follows the host: private on cgroup v2, host on v1 (Docker's defaults).
 * - User namespace (`--userns-remap`): container IDs 0… map to the host's
 *   subordinate range; the image's files were unpacked shifted by the same
 *   mapping (unpack/idshift.ts). `net.ipv4.ping_group_range` may only name
 *   groups mapped in the namespace, so it is narrowed to the range.
 *   `--privileged` is refused with a remapping (InvalidArgument), as Docker
 *   refuses it without `--userns=host`.
 */
import { invalidArgument } from '../../errdefs/errdefs';
import type { Device, IDMapping, Spec } from '../spec';
import { tweakCapabilities } from './capabilities';
import type { CgroupnsMode, ContainerConfig, DeviceMapping } from '../../containers/containers';

const q = (s: string) => JSON.stringify(s);

/** Some of r, w and m, each at most once (Docker's validDeviceMode). */
export function isDeviceMode(mode: string): boolean {
  return /^[rwm]{1,3}$/.test(mode) && new Set(mode).size === mode.length;
}

/**
 * `--device HOST[:CONTAINER[:PERMS]]`, or `HOST:PERMS` (a second field that
 * is a valid mode is the permissions, as Docker reads it). Both paths must
 * be absolute; the container path defaults to the host path and the
 * permissions to `rwm`.
 */
export function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(':');
  if (parts.length > 3 || parts[0] === '')
    throw invalidArgument(`invalid device specification: ${q(spec)} (want HOST[:CONTAINER[:PERMS]])`);
  const [source] = parts;
  let destination = '';
  let permissions = 'rwm';
  if (parts.length === 3) {
    destination = parts[1];
    permissions = parts[2];
    if (destination === '') throw invalidArgument(`invalid device specification: ${q(spec)}: empty container path`);
  } else if (parts.length === 2) {
    if (isDeviceMode(parts[1])) permissions = parts[1];
    else destination = parts[1];
  }
  if (!isDeviceMode(permissions)) throw invalidArgument(`invalid device ${q(spec)}: bad mode ${q(permissions)} (want some of r, w, m)`);
  destination ||= source;
  for (const p of [source, destination]) {
    if (!p.startsWith('/')) throw invalidArgument(`invalid device ${q(spec)}: ${q(p)} is not an absolute path`);
    if (p.includes('\0')) throw invalidArgument(`invalid device ${q(spec)}: path contains NUL`);
  }
  return { pathOnHost: source, pathInContainer: destination, cgroupPermissions: permissions };
}

/** `--cgroupns host|private`. */
export function parseCgroupns(value: string): CgroupnsMode {
  if (value !== 'host' && value !== 'private') throw invalidArgument(`invalid --cgroupns value ${q(value)}: want host or private`);
  return value;
}

/** The mode in effect: the configured one, else private on cgroup v2 and host on v1. */
export function effectiveCgroupns(config: Pick<ContainerConfig, 'cgroupns'>, cgroupV2: boolean): CgroupnsMode {
  return config.cgroupns ?? (cgroupV2 ? 'private' : 'host');
}

/** The capabilities the process gets: all the daemon holds when privileged, else the cap-add/cap-drop result. */
export function effectiveCapabilities(
  config: Pick<ContainerConfig, 'privileged' | 'capAdd' | 'capDrop'>,
  available?: readonly string[],
): string[] {
  return config.privileged ? tweakCapabilities(['ALL'], [], available) : tweakCapabilities(config.capAdd, config.capDrop, available);
}

/** What a container's privilege options come to on this daemon (inspect's HostConfig part). */
export interface EffectivePrivileges {
  readonly cgroupnsMode: CgroupnsMode;
  readonly capabilities: readonly string[];
  /** The daemon's --userns-remap mapping; undefined without one. */
  readonly idMap?: IdMap;
}

/** A `--device` resolved on the host: the node to create and the cgroup access it gets. */
export interface ResolvedDevice {
  readonly device: Device;
  readonly permissions: string;
}

/** The daemon's `--userns-remap` mapping: container ID 0 is host ID `uid`/`gid`, for `size` IDs. */
export interface IdMap {
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

export function idMappingsOf(map: IdMap | undefined): { uidMappings: IDMapping[]; gidMappings: IDMapping[] } {
  if (!map) return { uidMappings: [], gidMappings: [] };
  return {
    uidMappings: [{ containerID: 0, hostID: map.uid, size: map.size }],
    gidMappings: [{ containerID: 0, hostID: map.gid, size: map.size }],
  };
}

export interface PrivilegeInput {
  readonly config: ContainerConfig;
  /** The daemon's capabilities (its CapBnd); default: the kernel's whole table. */
  readonly hostCapabilities?: readonly string[];
  /** Every device node of the host's /dev (used when privileged). */
  readonly hostDevices: readonly Device[];
  /** The config's `devices`, resolved on the host. */
  readonly devices: readonly ResolvedDevice[];
  readonly cgroupV2: boolean;
  readonly idMap?: IdMap;
}

/** Applies the rules in the file comment to a spec from buildSpec; returns the same object. */
export function applyPrivileges(spec: Spec, input: PrivilegeInput): Spec {
  const { config } = input;
  if (config.privileged && input.idMap) {
    // Docker's rule too: the host's devices and an unconfined root mean nothing inside a remapped namespace.
    throw invalidArgument("privileged mode is incompatible with the daemon's --userns-remap");
  }
  const linux = (spec.linux ??= {});
  const process = spec.process!;
  const nodes = new Map<string, Device>();
  if (config.privileged) {
    const caps = effectiveCapabilities(config, input.hostCapabilities);
    process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };
    delete process.apparmorProfile;
    delete (linux as { seccomp?: unknown }).seccomp;
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
    if (!config.readOnlyRootfs) {
      for (const m of spec.mounts ?? []) {
        if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = (m.options ?? []).filter((o) => o !== 'ro');
      }
    }
    for (const d of input.hostDevices) nodes.set(d.path, d);
    linux.resources = { ...linux.resources, devices: [{ allow: true, access: 'rwm' }] };
  }
  for (const { device, permissions } of input.devices) {
    nodes.set(device.path, device);
    if (!config.privileged) {
      const rules = linux.resources?.devices ?? [];
      rules.push({ allow: true, type: device.type, major: device.major, minor: device.minor, access: permissions });
      linux.resources = { ...linux.resources, devices: rules };
    }
  }
  if (nodes.size) linux.devices = [...(linux.devices ?? []), ...nodes.values()];

  const namespaces = (linux.namespaces ??= []);
  if (effectiveCgroupns(config, input.cgroupV2) === 'private') namespaces.push({ type: 'cgroup' });
  if (input.idMap) {
    namespaces.push({ type: 'user' });
    Object.assign(linux, idMappingsOf(input.idMap));
    if (linux.sysctl?.['net.ipv4.ping_group_range'] !== undefined) {
      linux.sysctl['net.ipv4.ping_group_range'] = `0 ${input.idMap.size - 1}`;
    }
  }
  return spec;
}
