/**
 * The layer explorer's nodes in the Images view (docs/layers.md): an image
 * expands into its layers (one `images.layers` call), a layer into what it
 * added, changed and deleted (one `images.layerChanges` call), shown as a
 * tree of folders and files. Folders the changes pass through without
 * changing appear too, undecorated, so every change sits at its path.
 * No VS Code imports (tree items: layerTreeItems.ts).
 */
import { ChangeKind, FileType, type FileChange, type ImageLayer } from '../../../runtime/client';

export interface ImageLayerNode {
  readonly kind: 'imageLayer';
  /** The image ID (`sha256:…`) and the record name it was listed under. */
  readonly imageId: string;
  readonly imageName: string;
  readonly layer: ImageLayer;
}

export type ChangeLetter = 'A' | 'C' | 'D';

export interface LayerChangeNode {
  readonly kind: 'layerChange';
  readonly imageId: string;
  readonly imageName: string;
  readonly index: number;
  /** Absolute path in the image. */
  readonly path: string;
  readonly name: string;
  /** Undefined for a folder on the way to a change that did not change itself. */
  readonly change?: ChangeLetter;
  readonly folder: boolean;
  readonly size: number;
  readonly children: readonly LayerChangeNode[];
}

const LETTERS: Partial<Record<ChangeKind, ChangeLetter>> = {
  [ChangeKind.CHANGE_KIND_ADDED]: 'A',
  [ChangeKind.CHANGE_KIND_MODIFIED]: 'C',
  [ChangeKind.CHANGE_KIND_DELETED]: 'D',
};

export function layerNodes(imageId: string, imageName: string, layers: readonly ImageLayer[]): ImageLayerNode[] {
  return layers.map((layer) => ({ kind: 'imageLayer', imageId, imageName, layer }));
}

interface Building {
  name: string;
  path: string;
  change?: FileChange;
  children: Map<string, Building>;
}

/** The changes of one layer as a tree: folders first, then files, each by name. */
export function changeTree(layer: ImageLayerNode, changes: readonly FileChange[]): LayerChangeNode[] {
  const root: Building = { name: '', path: '/', children: new Map() };
  for (const c of changes) {
    let at = root;
    for (const part of c.path.split('/').filter(Boolean)) {
      let next = at.children.get(part);
      if (!next) {
        next = { name: part, path: at.path === '/' ? `/${part}` : `${at.path}/${part}`, children: new Map() };
        at.children.set(part, next);
      }
      at = next;
    }
    at.change = c;
  }
  const build = (b: Building): LayerChangeNode => {
    const children = sortNodes([...b.children.values()].map(build));
    const letter = b.change ? LETTERS[b.change.kind] : undefined;
    return {
      kind: 'layerChange',
      imageId: layer.imageId,
      imageName: layer.imageName,
      index: layer.layer.index,
      path: b.path,
      name: b.name,
      ...(letter ? { change: letter } : {}),
      folder: children.length > 0 || b.change?.type === FileType.FILE_TYPE_DIRECTORY,
      size: b.change?.size ?? 0,
      children,
    };
  };
  return sortNodes([...root.children.values()].map(build));
}

function sortNodes(nodes: LayerChangeNode[]): LayerChangeNode[] {
  return nodes.sort((a, b) => Number(b.folder) - Number(a.folder) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function isLayerChangeNode(value: unknown): value is LayerChangeNode {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'layerChange';
}
