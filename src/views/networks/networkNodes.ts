/**
 * The nodes of the Networks view, computed from one `networks.list()` and
 * one `containers.list(all)` (to name the attached containers and give
 * their addresses): no node asks the daemon for anything more. No VS Code
 * imports: tree items are built in networkTreeItems.ts.
 *
 * Nodes
 *   network           one network; its children are the containers attached
 *                     to it now. contextValue `builtinNetwork` (the default
 *                     `bridge`: not removable), `readOnlyNetwork` (from
 *                     --cni-conf-dir) or `network`
 *   networkContainer  a container attached to the network, with its
 *                     address on it
 *   message           an error listing, the Retry under it
 *
 * Order: the default network first, then by name.
 */
import type { ContainerSummary, NetworkInfo } from '../../../runtime/client';
import { shortId } from '../../../runtime/presentation';
import type { MessageNode } from '../viewFilter';

export type NetworkContextValue = 'builtinNetwork' | 'readOnlyNetwork' | 'network';

export interface NetworkNode {
  readonly kind: 'network';
  readonly network: NetworkInfo;
  readonly members: readonly NetworkMemberNode[];
}

export interface NetworkMemberNode {
  readonly kind: 'networkContainer';
  readonly network: string;
  readonly containerId: string;
  /** The container's name; its short ID when the container list does not know it (yet). */
  readonly name: string;
  /** "10.88.0.5/16" on this network; '' when unknown. */
  readonly address: string;
}

export type NetworksMessageNode = MessageNode<'networks'>;
export type NetworkTreeNode = NetworkNode | NetworkMemberNode | NetworksMessageNode;

export function isNetworkNode(value: unknown): value is NetworkNode {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'network' &&
    typeof (value as NetworkNode).network?.name === 'string'
  );
}

export function networkContextValue(network: NetworkInfo): NetworkContextValue {
  return network.builtin ? 'builtinNetwork' : network.readOnly ? 'readOnlyNetwork' : 'network';
}

/** The view's roots: every network with its attached containers. */
export function arrangeNetworks(networks: readonly NetworkInfo[], containers: readonly ContainerSummary[]): NetworkNode[] {
  const byId = new Map(containers.map((c) => [c.id, c]));
  return [...networks]
    .sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.name.localeCompare(b.name))
    .map((network) => ({
      kind: 'network' as const,
      network,
      members: network.containers
        .map((id): NetworkMemberNode => {
          const container = byId.get(id);
          const endpoint = container?.networks.find((e) => e.networkId === network.id || e.network === network.name);
          return {
            kind: 'networkContainer',
            network: network.name,
            containerId: id,
            name: container?.name ?? shortId(id),
            address: endpoint?.ipAddress ? `${endpoint.ipAddress}${endpoint.ipPrefixLen ? `/${endpoint.ipPrefixLen}` : ''}` : '',
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
    }));
}

/** "10.88.0.0/16 · 2 containers": what the item's description says. */
export function networkDescription(network: NetworkInfo): string {
  const parts: string[] = [];
  if (network.subnet) parts.push(network.subnet);
  if (network.internal) parts.push('internal');
  const n = network.containers.length;
  parts.push(n === 0 ? 'no containers' : n === 1 ? '1 container' : `${n} containers`);
  return parts.join(' · ');
}

/** The tooltip's rows, as [key, value] text (the tree item makes the Markdown). */
export function networkDetails(network: NetworkInfo): [string, string][] {
  const rows: [string, string][] = [
    ['ID', shortId(network.id)],
    ['Driver', network.driver || 'bridge'],
  ];
  if (network.bridge) rows.push(['Bridge', network.bridge]);
  rows.push(['Subnet', network.subnet || 'N/A'], ['Gateway', network.gateway || 'N/A']);
  rows.push(['Internal', network.internal ? 'yes (no route out of the host)' : 'no']);
  if (network.builtin) rows.push(['Default', 'yes (containers join it unless told otherwise; not removable)']);
  if (network.readOnly) rows.push(['Read-only', 'yes (from --cni-conf-dir)']);
  for (const [key, value] of Object.entries(network.labels).sort(([a], [b]) => a.localeCompare(b))) rows.push(['Label', `${key}=${value}`]);
  for (const [key, value] of Object.entries(network.options).sort(([a], [b]) => a.localeCompare(b)))
    rows.push(['Option', `${key}=${value}`]);
  if (network.createdAt) rows.push(['Created', network.createdAt.toISOString()]);
  return rows;
}
