/**
 * The Containers view's data. One `containers.list(all)` per refresh:
 * `refresh()` drops the cached listing, and the next `getChildren` (VS
 * Code's, a command's QuickPick, a test's) lists again; every caller until
 * the next refresh shares that one result. The only other daemon call is
 * inspect, in `resolveTreeItem`, when the user hovers a container.
 *
 * Refreshes come from the RefreshManager: daemon events under
 * "/containers/" (create, start, die, stop, pause, unpause, restart,
 * health_status, oom, destroy, update), a gap in the event stream, a
 * connection change, and the Refresh button.
 *
 * What the tree shows
 *   not connected     nothing (the view's welcome content explains)
 *   list failed       an error item and a Retry item
 *   no container      nothing (welcome content: "No containers yet")
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import type { ContainerSummary } from '../../../runtime/api/gen/gantry/v1/containers';
import { describe } from '../../../runtime/errdefs/errdefs';
import type { RefreshReason, RefreshTarget } from '../refreshManager';
import { arrangeContainers, type ContainersMessageNode, type ContainerTreeNode } from './containerNodes';
import { containerTooltip } from './containerTooltip';
import { containerTreeItem } from './containerTreeItems';

export const CONTAINERS_VIEW = 'gantry.containers';
const CALL_TIMEOUT_MS = 15_000;

type Listing =
  | { readonly containers: readonly ContainerSummary[]; readonly listedAt: number }
  | { readonly error: unknown; readonly listedAt: number };

export class ContainersTreeProvider implements vscode.TreeDataProvider<ContainerTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/containers/'];
  readonly settings: readonly string[] = [];

  /** How many `containers.list()` calls this provider made: for tests and benchmarks. */
  listCalls = 0;
  /** How many `containers.inspect()` calls (tooltips) this provider made. */
  inspectCalls = 0;
  /** Why the view was last refreshed (undefined before the first refresh). */
  lastRefreshReason: RefreshReason | undefined;

  private listing: Promise<Listing> | undefined;
  /** The clock of the listing the tree shows: items say "Up 5 minutes" as of then, every time VS Code asks. */
  private shownAt = Date.now();
  private readonly changeEmitter = new vscode.EventEmitter<ContainerTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Called by the RefreshManager: the next getChildren lists again. */
  refresh(reason: RefreshReason): void {
    this.log.trace(`containers view: refresh (${reason})`);
    this.lastRefreshReason = reason;
    this.listing = undefined;
    this.changeEmitter.fire(undefined);
  }

  /** The current list of containers (the cached one unless a refresh came since); throws when listing failed. */
  async containers(): Promise<readonly ContainerSummary[]> {
    const listing = await this.load();
    if ('error' in listing) throw listing.error;
    return listing.containers;
  }

  async getChildren(node?: ContainerTreeNode): Promise<ContainerTreeNode[]> {
    if (node) return [];
    if (this.connection.current.state !== 'connected') return [];
    const listing = await this.load();
    this.shownAt = listing.listedAt;
    if ('error' in listing) return errorNodes(listing.error);
    return arrangeContainers(listing.containers);
  }

  getTreeItem(node: ContainerTreeNode): vscode.TreeItem {
    return containerTreeItem(node, this.shownAt);
  }

  async resolveTreeItem(item: vscode.TreeItem, node: ContainerTreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.kind !== 'container' || item.tooltip) return item;
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    try {
      this.inspectCalls++;
      const details = await this.connection.requireClient().containers.inspect(node.container.id, { signal: abort.signal, timeoutMs: CALL_TIMEOUT_MS });
      item.tooltip = containerTooltip(details);
    } catch (e) {
      if (!token.isCancellationRequested) item.tooltip = vscode.l10n.t('Could not inspect {0}: {1}', node.container.name, describe(e));
    } finally {
      subscription.dispose();
    }
    return item;
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }

  private load(): Promise<Listing> {
    // A refresh that comes while listing drops `listing`; its result still goes to its callers.
    this.listing ??= this.list();
    return this.listing;
  }

  private async list(): Promise<Listing> {
    try {
      const client = this.connection.requireClient();
      this.listCalls++;
      const containers = await client.containers.list(true, [], { timeoutMs: CALL_TIMEOUT_MS });
      return { containers, listedAt: Date.now() };
    } catch (e) {
      this.log.warn(`Listing containers failed: ${describe(e)}`);
      return { error: e, listedAt: Date.now() };
    }
  }
}

function errorNodes(error: unknown): ContainersMessageNode[] {
  return [
    {
      kind: 'message',
      id: 'containersError',
      contextValue: 'containersError',
      label: vscode.l10n.t('Failed to list containers'),
      description: describe(error),
      tooltip: describe(error),
    },
    { kind: 'message', id: 'containersRetry', contextValue: 'containersRetry', label: vscode.l10n.t('Retry') },
  ];
}
