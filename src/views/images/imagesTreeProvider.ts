/**
 * The Images view's data. One `images.list()` per refresh (and, when the
 * user expands an image or a layer, one `images.layers` or
 * `images.layerChanges` call): `refresh()` drops
 * the cached listing, and the next `getChildren` (VS Code's, a command's
 * QuickPick, a test's) lists again; every caller until the next refresh
 * shares that one result. Filtering, sorting and grouping work on the cached
 * list, so changing them costs no call. The only other daemon call is
 * inspect, in `resolveTreeItem`, when the user hovers an image.
 *
 * What the tree shows
 *   not connected     nothing (the view's welcome content explains)
 *   list failed       an error item and a Retry item
 *   no image          nothing (welcome content: "No images yet")
 *   nothing matches   one item saying so, which clears the filter
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { describe, type ImageSummary } from '../../../runtime/client';
import { CachedListing } from '../cachedListing';
import type { RefreshReason, RefreshTarget, ViewObserver } from '../refreshManager';
import { listFailedNodes, noMatchNode, ViewFilter } from '../viewFilter';
import { arrangeImages, type ImageGroupBy, type ImageSortBy, type ImageTreeNode } from './imageNodes';
import { imageTooltip } from './imageTooltip';
import { imageTreeItem } from './imageTreeItems';
import { changeTree, layerNodes } from './layerNodes';

export const IMAGES_VIEW = 'gantry.images';
const LIST_TIMEOUT_MS = 15_000;

export class ImagesTreeProvider implements vscode.TreeDataProvider<ImageTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/images/'];
  readonly settings = ['gantry.images'];

  private readonly listing = new CachedListing<ImageSummary>(
    () => {
      const client = this.connection.requireClient();
      this.observe({ view: IMAGES_VIEW, kind: 'list' });
      return client.images.list({ timeoutMs: LIST_TIMEOUT_MS });
    },
    (e) => this.log.warn(`Listing images failed: ${describe(e)}`),
  );
  private readonly changeEmitter = new vscode.EventEmitter<ImageTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly filterState = new ViewFilter('images', () => this.changeEmitter.fire(undefined));
  /** Fires with the new filter text ('' when cleared). */
  readonly onDidChangeFilter = this.filterState.onDidChange;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    /** Told of each list and inspect call (the test API counts them). */
    private readonly observe: ViewObserver = () => undefined,
  ) {}

  /** Resolves once a list call in flight is done (RefreshManager.idle). */
  idle(): Promise<void> {
    return this.listing.settled();
  }

  /** Called by the RefreshManager: the next getChildren lists again. */
  refresh(reason: RefreshReason): void {
    this.log.trace(`images view: refresh (${reason})`);
    this.listing.drop();
    this.changeEmitter.fire(undefined);
  }

  get filter(): string {
    return this.filterState.text;
  }

  /** Shows only images whose name or ID contains `text` ('' shows all). Re-renders without listing. */
  setFilter(text: string): void {
    this.filterState.set(text);
  }

  /** The current list of images (the cached one unless a refresh came since); throws when listing failed. */
  async images(): Promise<readonly ImageSummary[]> {
    return this.listing.items();
  }

  async getChildren(node?: ImageTreeNode): Promise<ImageTreeNode[]> {
    if (node) return this.childrenOf(node);
    if (this.connection.current.state !== 'connected') return [];
    const listing = await this.listing.get();
    if ('error' in listing) return listFailedNodes('images', vscode.l10n.t('Failed to list images'), listing.error);
    const config = vscode.workspace.getConfiguration('gantry.images');
    const roots = arrangeImages(listing.items, {
      groupBy: config.get<ImageGroupBy>('groupBy', 'repository'),
      sortBy: config.get<ImageSortBy>('sortBy', 'created'),
      filter: this.filterState.text,
    });
    if (roots.length === 0 && listing.items.length > 0) {
      return [
        noMatchNode('images', {
          label: vscode.l10n.t('No image matches "{0}"', this.filterState.text),
          description: vscode.l10n.t('Clear filter'),
        }),
      ];
    }
    return roots;
  }

  /** Below the list: an image's layers and a layer's changes, each one call when expanded. */
  private async childrenOf(node: ImageTreeNode): Promise<ImageTreeNode[]> {
    switch (node.kind) {
      case 'repository':
        return [...node.children];
      case 'layerChange':
        return [...node.children];
      case 'image': {
        const { id, layers } = await this.connection.requireClient().images.layers(node.image.id, { timeoutMs: LIST_TIMEOUT_MS });
        return layerNodes(id, node.image.name, layers);
      }
      case 'imageLayer': {
        const r = await this.connection.requireClient().images.layerChanges(node.imageId, node.layer.index, { timeoutMs: LIST_TIMEOUT_MS });
        return changeTree(node, r.changes);
      }
      default:
        return [];
    }
  }

  getTreeItem(node: ImageTreeNode): vscode.TreeItem {
    return imageTreeItem(node);
  }

  async resolveTreeItem(item: vscode.TreeItem, node: ImageTreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.kind !== 'image' || item.tooltip) return item;
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    try {
      this.observe({ view: IMAGES_VIEW, kind: 'inspect' });
      const details = await this.connection
        .requireClient()
        .images.inspect(node.image.name, { signal: abort.signal, timeoutMs: LIST_TIMEOUT_MS });
      item.tooltip = imageTooltip(details);
    } catch (e) {
      if (!token.isCancellationRequested) item.tooltip = vscode.l10n.t('Could not inspect {0}: {1}', node.image.name, describe(e));
    } finally {
      subscription.dispose();
    }
    return item;
  }

  dispose(): void {
    this.changeEmitter.dispose();
    this.filterState.dispose();
  }
}
