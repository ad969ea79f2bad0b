/**
 * The volume parts of a container's config ↔ gantry.v1 messages, and
 * Docker's `Mounts` list (inspect) built from the config: binds, volumes and
 * tmpfs mounts as Docker shows them.
 */
import type { ContainerConfig } from '../../containers/containers';
import { invalidArgument } from '../../errdefs/errdefs';
import { mountDestination } from '../../oci/specgen/mounts';
import { parseVolumesFrom, volumeNameProblem } from '../../options';
import type { ContainerConfig as WireConfig, MountPoint, VolumeMount as WireVolumeMount } from '../gen/gantry/v1/containers';

export function volumesToWire(c: ContainerConfig): Pick<WireConfig, 'volumeMounts' | 'volumesFrom'> {
  return {
    volumeMounts: (c.volumes ?? []).map((v): WireVolumeMount => ({
      name: v.name,
      destination: v.destination,
      readOnly: v.readOnly,
      noCopy: v.noCopy ?? false,
      volumeOptions: { ...(v.volumeOptions ?? {}) },
      volumeLabels: { ...(v.volumeLabels ?? {}) },
      anonymous: v.anonymous ?? false,
    })),
    volumesFrom: [...(c.volumesFrom ?? [])],
  };
}

/** Checked here once: names, destinations, --volumes-from specs. Only set fields (records stay as before without volumes). */
export function volumesFromWire(w: WireConfig): Pick<ContainerConfig, 'volumes' | 'volumesFrom'> {
  const out: { volumes?: ContainerConfig['volumes']; volumesFrom?: string[] } = {};
  if (w.volumeMounts?.length) {
    out.volumes = w.volumeMounts.map((v) => {
      if (v.name) {
        const problem = volumeNameProblem(v.name);
        if (problem) throw invalidArgument(problem);
      }
      return {
        name: v.name,
        destination: mountDestination(v.destination, `volume ${v.name || '(anonymous)'}`),
        readOnly: v.readOnly,
        ...(v.noCopy ? { noCopy: true } : {}),
        ...(Object.keys(v.volumeOptions).length ? { volumeOptions: { ...v.volumeOptions } } : {}),
        ...(Object.keys(v.volumeLabels).length ? { volumeLabels: { ...v.volumeLabels } } : {}),
      };
    });
  }
  if (w.volumesFrom?.length) {
    for (const spec of w.volumesFrom) parseVolumesFrom(spec);
    out.volumesFrom = [...w.volumesFrom];
  }
  return out;
}

/** Docker's Mounts: what the user mounted, in the order given (binds, volumes, tmpfs). */
export function mountPointsOf(c: ContainerConfig): MountPoint[] {
  return [
    ...c.mounts.map((m) => ({
      type: 'bind',
      name: '',
      source: m.source,
      destination: m.destination,
      driver: '',
      mode: m.readOnly ? 'ro' : '',
      rw: !m.readOnly,
      propagation: 'rprivate',
    })),
    ...(c.volumes ?? []).map((v) => ({
      type: 'volume',
      name: v.name,
      source: v.source ?? '',
      destination: v.destination,
      driver: 'local',
      mode: v.readOnly ? 'ro' : 'z',
      rw: !v.readOnly,
      propagation: '',
    })),
    ...c.tmpfs.map((t) => ({
      type: 'tmpfs',
      name: '',
      source: '',
      destination: t.destination,
      driver: '',
      mode: '',
      rw: !t.options.includes('ro'),
      propagation: '',
    })),
  ];
}
