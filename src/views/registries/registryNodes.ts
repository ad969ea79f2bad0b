/**
 * The Registries view's nodes: a registry the daemon's user is logged in to,
 * its repositories (the catalog, or — when the registry refuses the catalog
 * — the repositories of that registry the local images name, marked so),
 * and each repository's tags. Built from the daemon's answers alone.
 *
 * contextValue: `registry`, `registryRepository`, `registryLocalRepository`,
 * `registryTag`, `registriesNotice`, `registriesError`, `registriesRetry`.
 * id: `registry:<server>`, `…/<path>`, `…/<path>:<tag>`, so expansion survives
 * refreshes.
 */
import type { RegistryLogin } from '../../../runtime/client';
import type { MessageNode } from '../viewFilter';

export interface RegistryNode {
  readonly kind: 'registry';
  readonly login: RegistryLogin;
}

export interface RepositoryNode {
  readonly kind: 'repository';
  readonly server: string;
  /** Path without the registry ("team/app"). */
  readonly path: string;
  /** Seen in local images because the registry refused its catalog. */
  readonly local: boolean;
}

export interface TagNode {
  readonly kind: 'tag';
  readonly server: string;
  readonly path: string;
  readonly tag: string;
}

/** A line that explains (the catalog was refused; no repositories; no tags). */
export interface NoticeNode {
  readonly kind: 'notice';
  readonly id: string;
  readonly label: string;
  readonly tooltip?: string;
}

export type RegistryTreeNode = RegistryNode | RepositoryNode | TagNode | NoticeNode | MessageNode<'registries'>;

/** "127.0.0.1:5000/team/app" */
export function repositoryName(node: Pick<RepositoryNode, 'server' | 'path'>): string {
  return `${node.server}/${node.path}`;
}

/** "127.0.0.1:5000/team/app:1", the reference every tool accepts. */
export function tagReference(node: Pick<TagNode, 'server' | 'path' | 'tag'>): string {
  return `${repositoryName(node)}:${node.tag}`;
}

export function isRegistryNode(n: unknown): n is RegistryNode {
  return typeof n === 'object' && n !== null && (n as RegistryNode).kind === 'registry';
}

export function isTagNode(n: unknown): n is TagNode {
  return typeof n === 'object' && n !== null && (n as TagNode).kind === 'tag' && typeof (n as TagNode).tag === 'string';
}
