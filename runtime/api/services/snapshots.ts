import type { Kind, Snapshotter } from '../../snapshots/snapshots';
import { SnapshotKind, type SnapshotInfo, type SnapshotsServer } from '../gen/gantry/v1/snapshots';
import type { HandlerAdapter } from '../server';

const KIND: Record<Kind, SnapshotKind> = {
  active: SnapshotKind.SNAPSHOT_KIND_ACTIVE,
  view: SnapshotKind.SNAPSHOT_KIND_VIEW,
  committed: SnapshotKind.SNAPSHOT_KIND_COMMITTED,
};

export function snapshotsService(adapt: HandlerAdapter, snapshotter: Snapshotter): SnapshotsServer {
  return {
    list: adapt.unary('List', async (ctx) => {
      const snapshots: SnapshotInfo[] = [];
      await snapshotter.walk(ctx, (info) => {
        snapshots.push({
          name: info.name,
          parent: info.parent,
          kind: KIND[info.kind],
          labels: { ...info.labels },
          createdAt: info.createdAt,
          updatedAt: info.updatedAt,
        });
      });
      return { snapshotter: snapshotter.name, snapshots };
    }),
    usage: adapt.unary('Usage', async (ctx, request) => snapshotter.usage(ctx, request.key)),
  };
}
