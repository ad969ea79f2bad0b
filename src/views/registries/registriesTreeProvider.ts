/**
 * The Registries view's data: the registries the daemon's user is logged in
 * to (Registry/ListRegistries: that user's Docker config, so for a host over
 * SSH the remote user's), each expanding into its repositories
 * (ListRepositories: the catalog, or the local images' repositories when the
 * registry refuses it) and each repository into its tags (ListTags).
 *
 * One ListRegistries per refresh (CachedListing); repositories and tags are
 * asked when a node is expanded and kept until the next refresh, so a test
 * or a command sees what the tree shows. Refreshes come from the
 * RefreshManager: "/images/push" events (a push adds repositories and tags),
 * a connection change, and the Refresh button (logins and deletes call it).
 *
 * What the tree shows
 *   not connected      nothing (the view's welcome content explains)
 *   no logins          nothing: the welcome content offers Log In…
 *   listing failed     an error item and Retry (at the level that failed)
 */
import * as vscode from 'vscode';
import type { RuntimeConnection } from '../../client/connection';
import { describe, type RegistryLogin } from '../../../runtime/client';
import { CachedListing } from '../cachedListing';
import type { RefreshReason, RefreshTarget, ViewObserver } from '../refreshManager';
import { listFailedNodes } from '../viewFilter';
import { repositoryName, type RegistryTreeNode, type RepositoryNode, type TagNode } from './registryNodes';
import { registryTreeItem } from './registryTreeItems';

export const REGISTRIES_VIEW = 'gantry.registries';
const LIST_TIMEOUT_MS = 60_000;

export class RegistriesTreeProvider implements vscode.TreeDataProvider<RegistryTreeNode>, RefreshTarget, vscode.Disposable {
  readonly topics = ['/images/push'];
  readonly settings: readonly string[] = [];

  private readonly listing = new CachedListing<RegistryLogin>(
    async () => {
      this.observe({ view: REGISTRIES_VIEW, kind: 'list' });
      return (await this.connection.requireClient().images.listRegistries({ timeoutMs: LIST_TIMEOUT_MS })).registries;
    },
    (e) => this.log.warn(`Listing registries failed: ${describe(e)}`),
  );
  /** Children of expanded registries and repositories, by node id, until the next refresh. */
  private children = new Map<string, Promise<RegistryTreeNode[]>>();
  private readonly changeEmitter = new vscode.EventEmitter<RegistryTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  constructor(
    private readonly connection: RuntimeConnection,
    private readonly log: vscode.LogOutputChannel,
    private readonly observe: ViewObserver = () => undefined,
  ) {}

  async idle(): Promise<void> {
    await this.listing.settled();
    await Promise.allSettled([...this.children.values()]);
  }

  refresh(reason: RefreshReason): void {
    this.log.trace(`registries view: refresh (${reason})`);
    this.listing.drop();
    this.children = new Map();
    this.changeEmitter.fire(undefined);
  }

  /** The logins as the tree shows them; throws when listing failed. */
  async registries(): Promise<readonly RegistryLogin[]> {
    return this.listing.items();
  }

  async getChildren(node?: RegistryTreeNode): Promise<RegistryTreeNode[]> {
    if (!node) {
      if (this.connection.current.state !== 'connected') return [];
      const listing = await this.listing.get();
      if ('error' in listing) return listFailedNodes('registries', vscode.l10n.t('Failed to list registries'), listing.error);
      return listing.items.map((login) => ({ kind: 'registry', login }));
    }
    if (node.kind === 'registry') return this.cached(`registry:${node.login.server}`, () => this.repositories(node.login.server));
    if (node.kind === 'repository') return this.cached(`registry:${repositoryName(node)}`, () => this.tags(node));
    return [];
  }

  getTreeItem(node: RegistryTreeNode): vscode.TreeItem {
    return registryTreeItem(node);
  }

  private cached(id: string, load: () => Promise<RegistryTreeNode[]>): Promise<RegistryTreeNode[]> {
    let p = this.children.get(id);
    if (!p) {
      p = load();
      this.children.set(id, p);
    }
    return p;
  }

  private async repositories(server: string): Promise<RegistryTreeNode[]> {
    let answer;
    try {
      this.observe({ view: REGISTRIES_VIEW, kind: 'list' });
      answer = await this.connection.requireClient().images.listRepositories(server, 0, { timeoutMs: LIST_TIMEOUT_MS });
    } catch (e) {
      this.log.warn(`Listing the repositories of ${server} failed: ${describe(e)}`);
      return failed(`registry:${server}`, vscode.l10n.t('Failed to list repositories'), e);
    }
    const repositories: RegistryTreeNode[] = answer.repositories.map((path): RepositoryNode => ({
      kind: 'repository',
      server,
      path,
      local: answer.fromLocalImages,
    }));
    if (answer.fromLocalImages) {
      repositories.unshift({
        kind: 'notice',
        id: `registry:${server}#local`,
        label: vscode.l10n.t('The registry does not list its repositories: showing local ones'),
        tooltip: answer.catalogError,
      });
    } else if (repositories.length === 0) {
      repositories.push({ kind: 'notice', id: `registry:${server}#empty`, label: vscode.l10n.t('No repositories') });
    }
    return repositories;
  }

  private async tags(repo: RepositoryNode): Promise<RegistryTreeNode[]> {
    const name = repositoryName(repo);
    let tags;
    try {
      this.observe({ view: REGISTRIES_VIEW, kind: 'list' });
      tags = await this.connection.requireClient().images.listTags(name, 0, { timeoutMs: LIST_TIMEOUT_MS });
    } catch (e) {
      this.log.warn(`Listing the tags of ${name} failed: ${describe(e)}`);
      return failed(`registry:${name}`, vscode.l10n.t('Failed to list tags'), e);
    }
    if (tags.length === 0) return [{ kind: 'notice', id: `registry:${name}#empty`, label: vscode.l10n.t('No tags') }];
    return [...tags]
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .map((tag): TagNode => ({ kind: 'tag', server: repo.server, path: repo.path, tag }));
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}

/** The error and Retry items under a node: ids made unique by the node's, since several levels may fail at once. */
function failed(parent: string, label: string, e: unknown): RegistryTreeNode[] {
  return listFailedNodes('registries', label, e).map((n) => ({ ...n, id: `${parent}#${n.id}` }));
}
