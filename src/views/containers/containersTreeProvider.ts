/**
 * The Containers view's data. One `containers.list(all)` per refresh:
 * `refresh()` drops the cached listing, and the next `getChildren` (VS
 * Code's, a command's QuickPick, a test's) lists again; every caller until
 * the next refresh shares that one result. Filtering and sorting
 * (`gantry.containers.sortBy`) work on the cached list, so changing them
 * costs no call. The only other daemon call is inspect, in
 * `resolveTreeItem`, when the user hovers a container.
 *
 * Relative times ("Up 5 minutes") stay true between refreshes: a
 * RelativeTimeTicker re-renders just the items whose rounded texts changed,
 * when they change (once a minute at most, less for older containers), on
 * an injectable clock.
 *
 * The extension's own stop, restart and remove go through `during()`: the
 * item shows the operation (and offers only Inspect and Logs) until it
 * settles, and the view then lists again, so it shows what came of it.
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
 *   nothing matches   one item saying so, which clears the filter
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { type ContainerSummary, describe } from '../../../runtime/client';
import { systemClock, type Clock } from '../clock';
import type { RefreshReason, RefreshTarget, ViewObserver } from '../refreshManager';
import { CachedListing } from '../cachedListing';
import { RelativeTimeTicker } from '../relativeTimeTicker';
import { listFailedNodes, noMatchNode, ViewFilter } from '../viewFilter';
import {
  arrangeContainers,
  clockTexts,
  portNodes,
  type ContainerNode,
  type ContainerOperation,
  type ContainerSortBy,
  type ContainerTreeNode,
} from './containerNodes';
import { containerTooltip } from './containerTooltip';
import { containerTreeItem } from './containerTreeItems';
import { filesNode, fileNodes, hasFiles } from './fileNodes';
import { changeNodes, changesNode } from './changeNodes';
import { arrangePods, isPodMember } from './podNodes';

export const CONTAINERS_VIEW = 'gantry.containers';
const CALL_TIMEOUT_MS = 15_000;

export class ContainersTreeProvider implements vscode.TreeDataProvider<ContainerTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/containers/'];
  readonly settings: readonly string[] = [];

  private readonly listing = new CachedListing<ContainerSummary>(
    () => {
      const client = this.connection.requireClient();
      this.observe({ view: CONTAINERS_VIEW, kind: 'list' });
      // Every namespace: Kubernetes pods (the CRI's `k8s.io` objects) show grouped by pod (podNodes.ts).
      return client.containers.list(true, [], { timeoutMs: CALL_TIMEOUT_MS, allNamespaces: true });
    },
    (e) => this.log.warn(`Listing containers failed: ${describe(e)}`),
  );
  /** Operations in flight, by the ID or name they were started with. */
  private readonly operations = new Map<string, ContainerOperation>();
  private readonly changeEmitter = new vscode.EventEmitter<ContainerTreeNode | ContainerTreeNode[] | undefined>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly filterState = new ViewFilter('containers', () => this.changeEmitter.fire(undefined));
  /** Fires with the new filter text ('' when cleared). */
  readonly onDidChangeFilter = this.filterState.onDidChange;
  /** Re-renders items whose relative times changed; owns the one timer. */
  readonly ticker: RelativeTimeTicker<ContainerNode>;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    clock: Clock = systemClock,
    /** Told of each list and inspect call (the test API counts them). */
    private readonly observe: ViewObserver = () => undefined,
  ) {
    this.ticker = new RelativeTimeTicker<ContainerNode>(
      clock,
      (node, now) => clockTexts(node.container, now),
      (nodes) => this.changeEmitter.fire(nodes),
    );
    this.subscriptions.push(
      this.ticker,
      // Sorting works on the cached list: re-render, no list call.
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('gantry.containers')) this.changeEmitter.fire(undefined);
      }),
    );
  }

  /** Called by the RefreshManager: the next getChildren lists again. */
  refresh(reason: RefreshReason): void {
    this.log.trace(`containers view: refresh (${reason})`);
    this.listing.drop();
    this.changeEmitter.fire(undefined);
  }

  /** Resolves once a list call in flight is done (RefreshManager.idle). */
  idle(): Promise<void> {
    return this.listing.settled();
  }

  /** For tests: relative times are read from `clock` from now on. */
  useClock(clock: Clock): void {
    this.ticker.useClock(clock);
  }

  get filter(): string {
    return this.filterState.text;
  }

  /** Shows only containers whose name, ID or image contains `text` ('' shows all). Re-renders without listing. */
  setFilter(text: string): void {
    this.filterState.set(text);
  }

  /** The operation in flight on `container`, if the extension started one. */
  operationOf(container: ContainerSummary): ContainerOperation | undefined {
    return this.operations.get(container.id) ?? this.operations.get(container.name);
  }

  /**
   * Shows `operation` on the container `ref` (its ID or name) while `work`
   * runs; once it settles (either way), lists again. Re-rendering to show
   * the operation uses the cached list (no call).
   */
  async during<T>(ref: string, operation: ContainerOperation, work: () => Promise<T>): Promise<T> {
    this.operations.set(ref, operation);
    this.changeEmitter.fire(undefined);
    try {
      return await work();
    } finally {
      if (this.operations.get(ref) === operation) this.operations.delete(ref);
      this.listing.drop();
      this.changeEmitter.fire(undefined);
    }
  }

  /**
   * The current list of Docker-style containers (the cached one unless a
   * refresh came since), what commands pick from; pods' containers are left
   * out (the kubelet owns them); throws when listing failed.
   */
  async containers(): Promise<readonly ContainerSummary[]> {
    return (await this.listing.items()).filter((c) => !isPodMember(c));
  }

  async getChildren(node?: ContainerTreeNode): Promise<ContainerTreeNode[]> {
    if (node) return this.childrenOf(node);
    if (this.connection.current.state !== 'connected') return [];
    const listing = await this.listing.get();
    if ('error' in listing) {
      this.ticker.show([]);
      return listFailedNodes('containers', vscode.l10n.t('Failed to list containers'), listing.error);
    }
    const options = {
      sortBy: vscode.workspace.getConfiguration('gantry.containers').get<ContainerSortBy>('sortBy', 'status'),
      filter: this.filterState.text,
      operationOf: (c: ContainerSummary) => this.operationOf(c),
    };
    const nodes = arrangeContainers(
      listing.items.filter((c) => !isPodMember(c)),
      options,
    );
    const pods = arrangePods(listing.items.filter(isPodMember), options);
    this.ticker.show([...pods.flatMap((p) => p.containers), ...nodes]);
    if (nodes.length === 0 && pods.length === 0 && listing.items.length > 0) {
      return [
        noMatchNode('containers', {
          label: vscode.l10n.t('No container matches "{0}"', this.filterState.text),
          description: vscode.l10n.t('Clear Filter'),
          tooltip: vscode.l10n.t('Click to show every container'),
        }),
      ];
    }
    // Pods first, then the Docker-style containers (as Docker's view puts Compose projects beside loose containers).
    return [...pods, ...nodes];
  }

  /** A pod's containers; a container's ports and Files; a folder's entries, listed now (never cached: files change). */
  private async childrenOf(node: ContainerTreeNode): Promise<ContainerTreeNode[]> {
    if (node.kind === 'pod') return [...node.containers];
    if (node.kind === 'container') {
      if (node.operation) return [];
      return [...portNodes(node.container), ...(hasFiles(node.container) ? [filesNode(node.container), changesNode(node.container)] : [])];
    }
    if (node.kind === 'containerChanges') return this.changesOf(node.containerId);
    if (node.kind !== 'containerFiles' && !(node.kind === 'containerFile' && node.folder)) return [];
    const dir = node.kind === 'containerFiles' ? '/' : node.path;
    try {
      const entries = await this.connection
        .requireClient()
        .files.readDirectoryTypes({ container: node.containerId }, dir, { timeoutMs: CALL_TIMEOUT_MS });
      return fileNodes(node.containerId, dir, entries);
    } catch (e) {
      this.log.warn(`listing ${dir} of container ${node.containerId.slice(0, 12)} failed: ${describe(e)}`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Could not list {0}: {1}', dir, describe(e)));
      return [];
    }
  }

  /** `gantry diff` of the container, asked now (never cached: the container keeps changing). */
  private async changesOf(containerId: string): Promise<ContainerTreeNode[]> {
    try {
      const changes = await this.connection.requireClient().containers.diff(containerId, { timeoutMs: CALL_TIMEOUT_MS });
      return changeNodes(containerId, changes);
    } catch (e) {
      this.log.warn(`listing the changes of container ${containerId.slice(0, 12)} failed: ${describe(e)}`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Could not list the changes of the container: {0}', describe(e)));
      return [];
    }
  }

  /** Lists a folder again (after a change made through the view), or the whole view. */
  refreshFiles(node?: ContainerTreeNode): void {
    this.changeEmitter.fire(node);
  }

  getTreeItem(node: ContainerTreeNode): vscode.TreeItem {
    const now = this.ticker.now();
    if (node.kind === 'container') this.ticker.renderedAt(node, now);
    return containerTreeItem(node, now);
  }

  async resolveTreeItem(item: vscode.TreeItem, node: ContainerTreeNode, token: vscode.CancellationToken): Promise<vscode.TreeItem> {
    if (node.kind !== 'container' || item.tooltip) return item;
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    try {
      this.observe({ view: CONTAINERS_VIEW, kind: 'inspect' });
      const details = await this.connection
        .requireClient()
        .containers.inspect(node.container.id, { signal: abort.signal, timeoutMs: CALL_TIMEOUT_MS });
      item.tooltip = containerTooltip(details, this.ticker.now());
    } catch (e) {
      if (!token.isCancellationRequested) item.tooltip = vscode.l10n.t('Could not inspect {0}: {1}', node.container.name, describe(e));
    } finally {
      subscription.dispose();
    }
    return item;
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.changeEmitter.dispose();
    this.filterState.dispose();
  }
}
