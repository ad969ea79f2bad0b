/** gantry.v1.Volumes over the volume service (runtime/volumes/, docs/volumes.md). */
import { invalidArgument } from '../../errdefs/errdefs';
import type { VolumeInfo, VolumeService } from '../../volumes/index';
import type { Volume, VolumesServer } from '../gen/gantry/v1/volumes';
import type { HandlerAdapter } from '../server';

export function toWireVolume(v: VolumeInfo): Volume {
  return {
    name: v.name,
    driver: v.driver,
    mountpoint: v.mountpoint,
    labels: { ...v.labels },
    options: { ...v.options },
    createdAt: new Date(v.createdAt),
    anonymous: v.anonymous,
    users: v.users.map((u) => ({ id: u.id, name: u.name })),
    size: v.size,
  };
}

export function volumesService(adapt: HandlerAdapter, volumes: VolumeService): VolumesServer {
  return {
    create: adapt.unary('Create', async (_ctx, req) => {
      if (req.driver && req.driver !== 'local')
        throw invalidArgument(`volume driver ${JSON.stringify(req.driver)} is not supported: only "local"`);
      const record = await volumes.create({ name: req.name, labels: req.labels, options: req.options });
      return { volume: toWireVolume(await volumes.inspect(record.name)) };
    }),
    list: adapt.unary('List', async (_ctx, req) => ({
      volumes: (await volumes.list(req.filters, req.withSize)).map(toWireVolume),
    })),
    inspect: adapt.unary('Inspect', async (_ctx, req) => ({ volume: toWireVolume(await volumes.inspect(req.name)) })),
    remove: adapt.unary('Remove', async (_ctx, req) => {
      await volumes.remove(req.name, req.force);
      return { name: req.name };
    }),
    prune: adapt.unary('Prune', async (_ctx, req) => volumes.prune(req.all, req.filters)),
  };
}
