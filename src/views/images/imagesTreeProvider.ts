/**
 * The Images view's data. One `images.list()` per refresh: `refresh()` drops
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
import type { RefreshReason, RefreshTarget } from '../refreshManager';
import {
  arrangeImages,
  type ImageGroupBy,
  type ImageSortBy,
  type ImagesMessageNode,
  type ImageTreeNode,
} from './imageNodes';
import { imageTooltip } from './imageTooltip';
import { imageTreeItem } from './imageTreeItems';

export const IMAGES_VIEW = 'gantry.images';
const FILTERED_CONTEXT_KEY = 'gantry.images.filtered';
const LIST_TIMEOUT_MS = 15_000;

type Listing = { readonly images: readonly ImageSummary[] } | { readonly error: unknown };

export class ImagesTreeProvider implements vscode.TreeDataProvider<ImageTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/images/'];
  readonly settings = ['gantry.images'];

  /** How many `images.list()` calls this provider made: for tests and benchmarks. */
  listCalls = 0;
  /** How many `images.inspect()` calls (tooltips) this provider made. */
  inspectCalls = 0;
  /** Why the view was last refreshed (undefined before the first refresh). */
  lastRefreshReason: RefreshReason | undefined;

  private listing: Promise<Listing> | undefined;
  private filterText = '';
  private readonly changeEmitter = new vscode.EventEmitter<ImageTreeNode | undefined>();
  private readonly filterEmitter = new vscode.EventEmitter<string>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  /** Fires with the new filter text ('' when cleared). */
  readonly onDidChangeFilter = this.filterEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Called by the RefreshManager: the next getChildren lists again. */
  refresh(reason: RefreshReason): void {
    this.log.trace(`images view: refresh (${reason})`);
    this.lastRefreshReason = reason;
    this.listing = undefined;
    this.changeEmitter.fire(undefined);
  }

  get filter(): string {
    return this.filterText;
  }

  /** Shows only images whose name or ID contains `text` ('' shows all). Re-renders without listing. */
  setFilter(text: string): void {
    const next = text.trim();
    if (next === this.filterText) return;
    this.filterText = next;
    void vscode.commands.executeCommand('setContext', FILTERED_CONTEXT_KEY, next !== '');
    this.filterEmitter.fire(next);
    this.changeEmitter.fire(undefined);
  }

  /** The current list of images (the cached one unless a refresh came since); throws when listing failed. */
  async images(): Promise<readonly ImageSummary[]> {
    const listing = await this.load();
    if ('error' in listing) throw listing.error;
    return listing.images;
  }

  async getChildren(node?: ImageTreeNode): Promise<ImageTreeNode[]> {
    if (node) return node.kind === 'repository' ? [...node.children] : [];
    if (this.connection.current.state !== 'connected') return [];
    const listing = await this.load();
    if ('error' in listing) return errorNodes(listing.error);
    const config = vscode.workspace.getConfiguration('gantry.images');
    const roots = arrangeImages(listing.images, {
      groupBy: config.get<ImageGroupBy>('groupBy', 'repository'),
      sortBy: config.get<ImageSortBy>('sortBy', 'created'),
      filter: this.filterText,
    });
    if (roots.length === 0 && listing.images.length > 0) return [noMatchNode(this.filterText)];
    return roots;
  }

  getTreeItem(node: ImageTreeNode): vscode.TreeItem {
    return imageTreeItem(node);
  }

  async resolveTreeItem(item: vscode.TreeItem, node: ImageTreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.kind !== 'image' || item.tooltip) return item;
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    try {
      this.inspectCalls++;
      const details = await this.connection.requireClient().images.inspect(node.image.name, { signal: abort.signal, timeoutMs: LIST_TIMEOUT_MS });
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
    this.filterEmitter.dispose();
  }

  private load(): Promise<Listing> {
    if (!this.listing) {
      const listing = this.list();
      this.listing = listing;
      // A refresh that came while listing dropped `listing`; its result is still returned to its callers.
    }
    return this.listing;
  }

  private async list(): Promise<Listing> {
    try {
      const client = this.connection.requireClient();
      this.listCalls++;
      return { images: await client.images.list({ timeoutMs: LIST_TIMEOUT_MS }) };
    } catch (e) {
      this.log.warn(`Listing images failed: ${describe(e)}`);
      return { error: e };
    }
  }
}

function errorNodes(error: unknown): ImagesMessageNode[] {
  return [
    {
      kind: 'message',
      id: 'imagesError',
      contextValue: 'imagesError',
      label: vscode.l10n.t('Failed to list images'),
      description: describe(error),
      tooltip: describe(error),
    },
    { kind: 'message', id: 'imagesRetry', contextValue: 'imagesRetry', label: vscode.l10n.t('Retry') },
  ];
}

function noMatchNode(filter: string): ImagesMessageNode {
  return {
    kind: 'message',
    id: 'imagesNoMatch',
    contextValue: 'imagesNoMatch',
    label: vscode.l10n.t('No image matches "{0}"', filter),
    description: vscode.l10n.t('Clear filter'),
  };
}
