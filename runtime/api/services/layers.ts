/** gantry.v1.Images History, Layers and LayerChanges over the layer service (runtime/layers/, docs/layers.md). */
import { invalidArgument } from '../../errdefs/errdefs';
import type { LayerChange } from '../../layers/layers';
import type { ImageLayer as Layer, LayerService } from '../../layers/service';
import { ChangeKind, type FileChange } from '../gen/gantry/v1/changes';
import { FileType } from '../gen/gantry/v1/files';
import type { ImageLayer, ImagesServer } from '../gen/gantry/v1/images';
import type { HandlerAdapter } from '../server';

const KINDS = { A: ChangeKind.CHANGE_KIND_ADDED, C: ChangeKind.CHANGE_KIND_MODIFIED, D: ChangeKind.CHANGE_KIND_DELETED } as const;
const TYPES = {
  file: FileType.FILE_TYPE_FILE,
  directory: FileType.FILE_TYPE_DIRECTORY,
  symlink: FileType.FILE_TYPE_SYMLINK,
  other: FileType.FILE_TYPE_OTHER,
} as const;

function toWireLayer(l: Layer): ImageLayer {
  return { ...l };
}

function toWireChange(c: LayerChange): FileChange {
  return { kind: KINDS[c.kind], path: c.path, type: c.type ? TYPES[c.type] : FileType.FILE_TYPE_UNSPECIFIED, size: c.size };
}

function imageOf(req: { image: string }): string {
  if (!req.image) throw invalidArgument('no image named');
  return req.image;
}

export function layersHandlers(adapt: HandlerAdapter, layers: LayerService): Pick<ImagesServer, 'history' | 'layers' | 'layerChanges'> {
  return {
    history: adapt.unary('History', async (ctx, req) => ({ entries: await layers.history(ctx, imageOf(req)) })),
    layers: adapt.unary('Layers', async (ctx, req) => {
      const r = await layers.layers(ctx, imageOf(req));
      return { id: r.id, layers: r.layers.map(toWireLayer) };
    }),
    layerChanges: adapt.unary('LayerChanges', async (ctx, req) => {
      const r = await layers.changes(ctx, imageOf(req), req.index);
      return { layer: toWireLayer(r.layer), changes: r.changes.map(toWireChange), source: r.source };
    }),
  };
}
