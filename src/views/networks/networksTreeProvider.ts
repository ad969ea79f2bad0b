/**
 * The Networks view's data. Per refresh, one `networks.list()` and one
 * `containers.list(all)` (to name the containers attached to each network
 * and give their addresses), made together and shared by every caller until
 * the next refresh (VS Code's getChildren, a command's QuickPick, a test).
 *
 * Refreshes come from the RefreshManager: daemon events under "/networks/"
 * (create, destroy, connect, disconnect) and under "/containers/" (a start
 * attaches, a stop or die detaches, a rename renames), a gap in the event
 * stream, a connection change, and the Refresh button.
 *
 * What the tree shows
 *   not connected     nothing (the view's welcome content explains)
 *   list failed       an error item and a Retry item
 *   connected         every network, the default `bridge` first (the
 *                     daemon always has it, so the view is never empty
 *                     while CNI networks work)
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { describe, type ContainerSummary, type NetworkInfo } from '../../../runtime/client';
import { CachedListing } from '../cachedListing';
import type { RefreshReason, RefreshTarget, ViewObserver } from '../refreshManager';
import { listFailedNodes } from '../viewFilter';
import { arrangeNetworks, type NetworkTreeNode } from './networkNodes';
import { networkTreeItem } from './networkTreeItems';

export const NETWORKS_VIEW = 'gantry.networks';
const LIST_TIMEOUT_MS = 15_000;

interface Listing {
  readonly networks: readonly NetworkInfo[];
  readonly containers: readonly ContainerSummary[];
}

export class NetworksTreeProvider implements vscode.TreeDataProvider<NetworkTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/networks/', '/containers/'];
  readonly settings: readonly string[] = [];

  private readonly listing = new CachedListing<Listing>(
    async () => {
      const client = this.connection.requireClient();
      this.observe({ view: NETWORKS_VIEW, kind: 'list' });
      const [networks, containers] = await Promise.all([
        client.networks.list({ timeoutMs: LIST_TIMEOUT_MS }),
        client.containers.list(true, [], { timeoutMs: LIST_TIMEOUT_MS }),
      ]);
      return [{ networks, containers }];
    },
    (e) => this.log.warn(`Listing networks failed: ${describe(e)}`),
  );
  private readonly changeEmitter = new vscode.EventEmitter<NetworkTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    /** Told of each list call (the test API counts them). */
    private readonly observe: ViewObserver = () => undefined,
  ) {}

  /** Resolves once a list call in flight is done (RefreshManager.idle). */
  idle(): Promise<void> {
    return this.listing.settled();
  }

  /** Called by the RefreshManager: the next getChildren lists again. */
  refresh(reason: RefreshReason): void {
    this.log.trace(`networks view: refresh (${reason})`);
    this.listing.drop();
    this.changeEmitter.fire(undefined);
  }

  /** The current list of networks (the cached one unless a refresh came since); throws when listing failed. */
  async networks(): Promise<readonly NetworkInfo[]> {
    const [listing] = await this.listing.items();
    return listing.networks;
  }

  async getChildren(node?: NetworkTreeNode): Promise<NetworkTreeNode[]> {
    if (node) return node.kind === 'network' ? [...node.members] : [];
    if (this.connection.current.state !== 'connected') return [];
    const listing = await this.listing.get();
    if ('error' in listing) return listFailedNodes('networks', vscode.l10n.t('Failed to list networks'), listing.error);
    const [{ networks, containers }] = listing.items;
    return arrangeNetworks(networks, containers);
  }

  getTreeItem(node: NetworkTreeNode): vscode.TreeItem {
    return networkTreeItem(node);
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
