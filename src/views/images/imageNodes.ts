/**
 * The nodes of the Images view and how they are arranged. Everything here is
 * computed from one `images.list()` result: no node ever asks the daemon
 * for anything (details come lazily, in the tooltip or the inspect
 * document). No VS Code imports: tree items are built in imageTreeItems.ts.
 *
 * Nodes
 *   repository  a repository when grouping by repository; its children are
 *               its images, labelled by tag
 *   image       one image record (one name). Tagged: `image`; untagged
 *               (`repo@digest`, Docker's `<none>`): `danglingImage`; it
 *               expands into its layers (layerNodes.ts)
 *   message     an error listing images, the Retry under it, or "no image
 *               matches the filter"
 */
import { type ImageSummary } from '../../../runtime/client';
import { displayName, displayRepository } from '../../../runtime/presentation';
import type { MessageNode } from '../viewFilter';
import type { ImageLayerNode, LayerChangeNode } from './layerNodes';

export type ImageGroupBy = 'repository' | 'none';
export type ImageSortBy = 'name' | 'created' | 'size';

export interface ImageNode {
  readonly kind: 'image';
  readonly image: ImageSummary;
  /** Familiar repository: "busybox", "127.0.0.1:5000/app". */
  readonly repository: string;
  /** Undefined when untagged. */
  readonly tag: string | undefined;
  /** Under a repository node, where the label is just the tag. */
  readonly grouped: boolean;
}

export interface ImageRepositoryNode {
  readonly kind: 'repository';
  /** Normalised repository ("docker.io/library/busybox"). */
  readonly repository: string;
  /** Familiar repository ("busybox"). */
  readonly label: string;
  readonly children: readonly ImageNode[];
}

export type ImagesMessageNode = MessageNode<'images'>;

/** Layers and their changes (layerNodes.ts) hang under an image. */
export type ImageTreeNode = ImageRepositoryNode | ImageNode | ImagesMessageNode | ImageLayerNode | LayerChangeNode;

export interface ArrangeOptions {
  readonly groupBy: ImageGroupBy;
  readonly sortBy: ImageSortBy;
  /** Case-insensitive substring of the familiar name, the full name or the ID; '' = all. */
  readonly filter: string;
}

export function isImageNode(value: unknown): value is ImageNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'image' &&
    typeof (value as ImageNode).image?.name === 'string'
  );
}

export function isRepositoryNode(value: unknown): value is ImageRepositoryNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'repository' &&
    Array.isArray((value as ImageRepositoryNode).children)
  );
}

/** Docker's `<none>`: a record named by digest, with no tag. */
export function isDangling(image: ImageSummary): boolean {
  return !image.tag;
}

/** "busybox:latest", "127.0.0.1:5000/app:v1", "busybox:<none>". */
export function imageLabel(image: ImageSummary): string {
  return image.tag ? displayName(image.name) : `${displayRepository(image.repository)}:<none>`;
}

/** The time shown as the image's age: the config's `created`, else when it was recorded here. */
export function imageTime(image: ImageSummary): number {
  const created = image.created ? Date.parse(image.created) : NaN;
  if (!Number.isNaN(created)) return created;
  return image.recordedAt ? image.recordedAt.getTime() : 0;
}

export function matchesFilter(image: ImageSummary, filter: string): boolean {
  if (!filter) return true;
  const needle = filter.toLowerCase();
  return [imageLabel(image), image.name, image.id.replace(/^sha256:/, '')].some((s) => s.toLowerCase().includes(needle));
}

/** The view's roots: filtered, sorted, and grouped as the settings say. */
export function arrangeImages(images: readonly ImageSummary[], options: ArrangeOptions): ImageRepositoryNode[] | ImageNode[] {
  const compare = comparator(options.sortBy);
  const visible = images.filter((i) => matchesFilter(i, options.filter)).sort(compare);
  const grouped = options.groupBy === 'repository';
  const nodes = visible.map((image): ImageNode => ({
    kind: 'image',
    image,
    repository: displayRepository(image.repository),
    tag: image.tag || undefined,
    grouped,
  }));
  if (!grouped) return nodes;

  // Images arrive sorted, so each group's first image is its best by the sort key,
  // and groups in order of first appearance are sorted by that key too.
  const groups = new Map<string, ImageNode[]>();
  for (const node of nodes) {
    const members = groups.get(node.image.repository);
    if (members) members.push(node);
    else groups.set(node.image.repository, [node]);
  }
  const roots = [...groups].map(([repository, children]): ImageRepositoryNode => ({
    kind: 'repository',
    repository,
    label: children[0].repository,
    children,
  }));
  if (options.sortBy === 'name') roots.sort((a, b) => a.label.localeCompare(b.label));
  return roots;
}

function comparator(sortBy: ImageSortBy): (a: ImageSummary, b: ImageSummary) => number {
  const byName = (a: ImageSummary, b: ImageSummary) => imageLabel(a).localeCompare(imageLabel(b));
  switch (sortBy) {
    case 'name':
      return byName;
    case 'size':
      return (a, b) => b.size - a.size || byName(a, b);
    case 'created':
    default:
      return (a, b) => imageTime(b) - imageTime(a) || byName(a, b);
  }
}
