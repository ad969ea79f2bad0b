/**
 * The Volumes view's data. Per refresh, one `volumes.list({ withSize })`
 * (sizes and users included), shared by every caller until the next refresh
 * (VS Code's getChildren, a command's QuickPick, a test). A volume expands
 * into its files, listed lazily through the files service (never cached:
 * files change), as a container's Files do.
 *
 * Refreshes come from the RefreshManager: daemon events under "/volumes/"
 * (create, destroy) and "/containers/" (a create or destroy changes who
 * uses a volume), a gap in the event stream, a connection change, and the
 * Refresh button.
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { describe, type Volume } from '../../../runtime/client';
import { CachedListing } from '../cachedListing';
import type { RefreshReason, RefreshTarget, ViewObserver } from '../refreshManager';
import { listFailedNodes } from '../viewFilter';
import { arrangeVolumes, volumeFileNodes, type VolumeTreeNode } from './volumeNodes';
import { volumeTreeItem } from './volumeTreeItems';

export const VOLUMES_VIEW = 'gantry.volumes';
const LIST_TIMEOUT_MS = 15_000;
const CALL_TIMEOUT_MS = 15_000;

export class VolumesTreeProvider implements vscode.TreeDataProvider<VolumeTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/volumes/', '/containers/create', '/containers/destroy'];
  readonly settings: readonly string[] = [];

  private readonly listing = new CachedListing<Volume>(
    async () => {
      const client = this.connection.requireClient();
      this.observe({ view: VOLUMES_VIEW, kind: 'list' });
      return client.volumes.list({ withSize: true }, { timeoutMs: LIST_TIMEOUT_MS });
    },
    (e) => this.log.warn(`Listing volumes failed: ${describe(e)}`),
  );
  private readonly changeEmitter = new vscode.EventEmitter<VolumeTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    private readonly observe: ViewObserver = () => undefined,
  ) {}

  idle(): Promise<void> {
    return this.listing.settled();
  }

  refresh(reason: RefreshReason): void {
    this.log.trace(`volumes view: refresh (${reason})`);
    this.listing.drop();
    this.changeEmitter.fire(undefined);
  }

  /** The current list of volumes; throws when listing failed. */
  volumes(): Promise<readonly Volume[]> {
    return this.listing.items();
  }

  async getChildren(node?: VolumeTreeNode): Promise<VolumeTreeNode[]> {
    if (node) return this.childrenOf(node);
    if (this.connection.current.state !== 'connected') return [];
    const listing = await this.listing.get();
    if ('error' in listing) return listFailedNodes('volumes', vscode.l10n.t('Failed to list volumes'), listing.error);
    return arrangeVolumes(listing.items);
  }

  private async childrenOf(node: VolumeTreeNode): Promise<VolumeTreeNode[]> {
    if (node.kind === 'message' || (node.kind === 'volumeFile' && !node.folder)) return [];
    const volume = node.kind === 'volume' ? node.volume.name : node.volume;
    const dir = node.kind === 'volume' ? '/' : node.path;
    try {
      const entries = await this.connection.requireClient().files.readDirectoryTypes({ volume }, dir, { timeoutMs: CALL_TIMEOUT_MS });
      return volumeFileNodes(volume, dir, entries);
    } catch (e) {
      this.log.warn(`listing ${dir} of volume ${volume} failed: ${describe(e)}`);
      void vscode.window.showWarningMessage(vscode.l10n.t('Could not list {0}: {1}', dir, describe(e)));
      return [];
    }
  }

  getTreeItem(node: VolumeTreeNode): vscode.TreeItem {
    return volumeTreeItem(node);
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
