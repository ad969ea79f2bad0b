/**
 * The container side of volumes: what `create` does with `-v`, `--mount
 * type=volume`, `--volumes-from` and the image's VOLUMEs, what the launcher
 * mounts, and what goes when a container is removed (docs/volumes.md).
 */
import type { Ctx } from '../context';
import type { BindMount, Container, ContainerConfig, VolumeMount } from '../containers/containers';
import type { ContainerVolumes } from '../containers/serviceDeps';
import type { LauncherVolumes } from '../containers/launcher';
import { invalidArgument, isNotFound } from '../errdefs/errdefs';
import type { ContainerConfig as ImageRuntimeConfig } from '../oci/manifest';
import { mountDestination } from '../oci/specgen/mounts';
import { parseVolumesFrom } from '../options';
import type { Logger } from '../util/log';
import { copyUp } from './copyUp';
import type { VolumeService } from './service';

export class VolumeAttacher implements ContainerVolumes, LauncherVolumes {
  constructor(
    private readonly volumes: VolumeService,
    /** The container records (for --volumes-from). */
    private readonly resolveContainer: (ref: string) => Container,
    private readonly log: Logger,
  ) {}

  async prepare(_ctx: Ctx, config: ContainerConfig, image: ImageRuntimeConfig) {
    const binds: BindMount[] = [...config.mounts];
    const volumes: VolumeMount[] = [...(config.volumes ?? [])];
    const taken = new Set<string>();
    const claim = (dest: string) => {
      if (taken.has(dest)) throw invalidArgument(`duplicate mount point: ${dest}`);
      taken.add(dest);
    };
    for (const m of [...binds, ...volumes, ...config.tmpfs]) claim(m.destination);
    // --volumes-from: the source's binds and volumes, where the user mounted nothing.
    for (const spec of config.volumesFrom ?? []) {
      const { container, mode } = parseVolumesFrom(spec);
      const source = this.resolveContainer(container);
      const ro = (own: boolean) => (mode === '' ? own : mode === 'ro');
      for (const b of source.config.mounts) {
        if (taken.has(b.destination)) continue;
        taken.add(b.destination);
        binds.push({ ...b, readOnly: ro(b.readOnly) });
      }
      for (const v of source.config.volumes ?? []) {
        if (taken.has(v.destination)) continue;
        taken.add(v.destination);
        // Shared, not made for this container: rm -v of this one leaves it.
        volumes.push({ name: v.name, destination: v.destination, readOnly: ro(v.readOnly), noCopy: true });
      }
    }
    // The image's VOLUMEs become anonymous volumes unless something is mounted there.
    for (const p of Object.keys(image.Volumes ?? {}).sort()) {
      let dest: string;
      try {
        dest = mountDestination(p, `image volume ${JSON.stringify(p)}`);
      } catch (e) {
        this.log.warn('skipping an image VOLUME that is not a valid mount point', { path: p, error: e });
        continue;
      }
      if (taken.has(dest)) continue;
      taken.add(dest);
      volumes.push({ name: '', destination: dest, readOnly: false });
    }
    const held = await this.volumes.hold(
      volumes.map((v) => ({
        name: v.name,
        anonymous: v.name === '',
        labels: v.volumeLabels,
        options: v.volumeOptions,
      })),
    );
    const resolved = volumes.map((v, i) => {
      const name = held.records[i].name;
      return {
        ...v,
        name,
        ...(v.name === '' ? { anonymous: true } : {}),
        source: this.volumes.store.dataPath(name),
      };
    });
    return { config: { ...config, mounts: binds, volumes: resolved }, done: held.done };
  }

  async released(config: ContainerConfig, removeAnonymous: boolean): Promise<void> {
    if (!removeAnonymous) return;
    for (const v of config.volumes ?? []) {
      if (!v.anonymous) continue;
      if (this.volumes.usersOf(v.name).length) continue;
      try {
        await this.volumes.remove(v.name);
      } catch (e) {
        if (!isNotFound(e)) this.log.warn('removing an anonymous volume failed', { volume: v.name, error: e });
      }
    }
  }

  mountpoint(name: string): Promise<string> {
    return this.volumes.store.mountpoint(name);
  }

  async populate(rootfs: string, destination: string, name: string): Promise<void> {
    await copyUp(rootfs, destination, await this.mountpoint(name));
  }
}
