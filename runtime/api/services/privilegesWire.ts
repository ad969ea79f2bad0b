/**
 * The privilege fields of a container config ↔ gantry.v1 (fields 50–59 of
 * ContainerConfig), checked once here like the rest of containerWire.ts.
 */
import type { ContainerConfig, DeviceMapping } from '../../containers/containers';
import { idMappingsOf, isDeviceMode, parseCgroupns, type EffectivePrivileges } from '../../oci/specgen/privileges';
import { invalidArgument } from '../../errdefs/errdefs';
import type { IDMapping } from '../../oci/spec';
import type { InspectContainerResponse, ContainerConfig as WireConfig } from '../gen/gantry/v1/containers';

type Privileges = Pick<ContainerConfig, 'privileged' | 'devices' | 'cgroupns'>;

export function privilegesToWire(c: ContainerConfig): Pick<WireConfig, 'privileged' | 'devices' | 'cgroupns'> {
  return {
    privileged: c.privileged ?? false,
    devices: (c.devices ?? []).map((d) => ({ ...d })),
    cgroupns: c.cgroupns ?? '',
  };
}

export function privilegesFromWire(w: WireConfig): Privileges {
  const devices = w.devices.map((d): DeviceMapping => {
    const pathInContainer = d.pathInContainer || d.pathOnHost;
    const cgroupPermissions = d.cgroupPermissions || 'rwm';
    for (const p of [d.pathOnHost, pathInContainer]) {
      if (!p.startsWith('/') || p.includes('\0')) throw invalidArgument(`invalid device path ${JSON.stringify(p)}: want an absolute path`);
    }
    if (!isDeviceMode(cgroupPermissions))
      throw invalidArgument(`invalid device permissions ${JSON.stringify(cgroupPermissions)}: want some of r, w, m`);
    return { pathOnHost: d.pathOnHost, pathInContainer, cgroupPermissions };
  });
  return {
    privileged: w.privileged,
    devices,
    cgroupns: w.cgroupns ? parseCgroupns(w.cgroupns) : undefined,
  };
}

export function privilegesToInspect(
  p: EffectivePrivileges,
): Pick<InspectContainerResponse, 'cgroupnsMode' | 'capabilities' | 'uidMappings' | 'gidMappings'> {
  const { uidMappings, gidMappings } = idMappingsOf(p.idMap);
  const wire = (m: IDMapping) => ({ containerId: m.containerID, hostId: m.hostID, size: m.size });
  return {
    cgroupnsMode: p.cgroupnsMode,
    capabilities: [...p.capabilities],
    uidMappings: uidMappings.map(wire),
    gidMappings: gidMappings.map(wire),
  };
}
