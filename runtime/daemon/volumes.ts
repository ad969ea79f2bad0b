/**
 * Wiring of volumes in gantryd: the local store under `<root>/volumes`, the
 * service (uses read from the container records), the container side handed
 * to the container service and launcher, the Volumes API, and volume roots
 * for the files service (a volume's `_data` is the root; docs/volumes.md).
 */
import * as path from 'node:path';
import type { VolumesServer } from '../api/gen/gantry/v1/volumes';
import type { HandlerAdapter } from '../api/server';
import { volumesService } from '../api/services/volumes';
import type { FileContainerStore } from '../containers/store';
import { invalidArgument } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import type { FileRoot, FileRoots, FileTarget } from '../files/containerFiles';
import type { Ctx } from '../context';
import type { Logger } from '../util/log';
import { LocalVolumeStore, VolumeAttacher, VolumeService } from '../volumes/index';
import type { VolumeUsageSource } from '../system/diskUsage';
import type { DaemonConfig } from './daemon';

export interface VolumesDeps {
  readonly config: DaemonConfig;
  readonly log: Logger;
  readonly events: Publisher;
  readonly store: FileContainerStore;
}

export interface Volumes {
  readonly service: VolumeService;
  /** For the container service and the launcher. */
  readonly attacher: VolumeAttacher;
  server(adapt: HandlerAdapter): VolumesServer;
  /** Sizes and users for `system df` (runtime/system/diskUsage.ts). */
  readonly usage: VolumeUsageSource;
  /** Files roots: a volume target here, anything else to `containers`. */
  fileRoots(containers: FileRoots): FileRoots;
}

export async function startVolumes(deps: VolumesDeps): Promise<Volumes> {
  const store = await LocalVolumeStore.open(path.join(deps.config.paths.root, 'volumes'), deps.log);
  const service = new VolumeService({
    store,
    events: deps.events,
    referrers: () => deps.store.list().map((c) => ({ id: c.id, name: c.name, volumes: (c.config.volumes ?? []).map((v) => v.name) })),
  });
  const attacher = new VolumeAttacher(service, (ref) => deps.store.resolve(ref), deps.log);
  return {
    service,
    attacher,
    server: (adapt) => volumesService(adapt, service),
    usage: {
      list: async () =>
        (await service.list([], true)).map((v) => ({ name: v.name, driver: v.driver, size: v.size, links: v.users.length })),
    },
    fileRoots: (containers) => ({
      rootOf: async (ctx: Ctx, target: FileTarget): Promise<FileRoot> => {
        if (!target.volume) return containers.rootOf(ctx, target);
        if (target.container) throw invalidArgument('name a container or a volume, not both');
        store.require(target.volume);
        // New files in a volume belong to root, as Docker's local driver makes them from the host side.
        return {
          path: await store.mountpoint(target.volume),
          description: `volume ${target.volume}`,
          owner: { uid: 0, gid: 0 },
          release: async () => undefined,
        };
      },
    }),
  };
}
