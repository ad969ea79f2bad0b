/**
 * The privilege part of a container's inspect record, in Docker's
 * HostConfig names: what was asked for (Privileged, CapAdd, CapDrop,
 * Devices, CgroupnsMode) with the daemon's defaults applied, the
 * capabilities the process gets, and the user-namespace mappings of the
 * daemon's --userns-remap.
 */
import type { IdMapping, InspectContainerResponse } from '../../client';

const mapping = (m: IdMapping) => ({ ContainerID: m.containerId, HostID: m.hostId, Size: m.size });

export function hostConfigJson(details: InspectContainerResponse): Record<string, unknown> {
  const config = details.config;
  return {
    Privileged: config?.privileged ?? false,
    CapAdd: config?.capAdd ?? [],
    CapDrop: config?.capDrop ?? [],
    Capabilities: details.capabilities,
    Devices: (config?.devices ?? []).map((d) => ({
      PathOnHost: d.pathOnHost,
      PathInContainer: d.pathInContainer,
      CgroupPermissions: d.cgroupPermissions,
    })),
    CgroupnsMode: details.cgroupnsMode,
    UidMappings: details.uidMappings.map(mapping),
    GidMappings: details.gidMappings.map(mapping),
  };
}
