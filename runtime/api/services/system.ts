/**
 * gantry.v1.System: DiskUsage for `gantry system df` (runtime/system/diskUsage.ts
 * does the counting; this maps it to the wire).
 */
import { diskUsage, type DiskUsageSources } from '../../system/diskUsage';
import type { SystemServer } from '../gen/gantry/v1/system';
import type { HandlerAdapter } from '../server';
import { STATUS } from './containerWire';

const date = (iso: string): Date | undefined => (iso ? new Date(iso) : undefined);

export function systemService(adapt: HandlerAdapter, sources: DiskUsageSources): SystemServer {
  return {
    diskUsage: adapt.unary('DiskUsage', async (ctx) => {
      const usage = await diskUsage(ctx, sources);
      return {
        images: usage.images.map((i) => ({ ...i, names: [...i.names] })),
        containers: usage.containers.map((c) => ({
          id: c.id,
          name: c.name,
          image: c.image,
          command: [...c.command],
          status: STATUS[c.status],
          size: c.size,
          createdAt: date(c.createdAt),
          exitCode: c.exitCode,
          startedAt: date(c.startedAt),
          finishedAt: date(c.finishedAt),
          localVolumes: c.localVolumes,
        })),
        volumes: usage.volumes.map((v) => ({ ...v })),
        layersSize: usage.layersSize,
        buildCacheSize: 0,
      };
    }),
  };
}
