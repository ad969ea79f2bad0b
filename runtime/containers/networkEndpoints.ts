/**
 * Which networks a container is connected to, as its configuration records
 * them (pure): the primary network (`--network`, unless `network disconnect`
 * took it away) and the further ones of `network connect`. Every start
 * attaches all of them in that order (eth0, eth1, …), so a connection lasts
 * across stops, restarts by the policy and gantryd restarts
 * (docs/networking.md, "network connect and disconnect").
 *
 * The refusals use Docker's words where Docker has them.
 */
import { alreadyExists, failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import type { AttachRequest } from '../network/index';
import { isCniNetwork, joinedContainer, type ContainerConfig, type NetworkConnection } from './containers';

/** The networks to attach at start, primary first. */
export function endpointsOf(c: ContainerConfig): AttachRequest[] {
  if (!isCniNetwork(c.network)) return [];
  const out: AttachRequest[] = [];
  if (!c.primaryDisconnected) out.push({ network: c.network, aliases: c.networkAliases, ip: c.ip, mac: c.macAddress });
  for (const n of c.connectedNetworks ?? []) out.push({ network: n.network, aliases: n.aliases, ip: n.ip });
  return out;
}

/** Names of the networks the container is configured for (a network in use is not removed). */
export function configuredNetworks(c: ContainerConfig): string[] {
  return endpointsOf(c).map((e) => e.network);
}

/** Refuses `network connect|disconnect` for a container whose mode has no networks of its own (Docker's errors). */
export function requireOwnNetworks(c: ContainerConfig, verb: 'connect' | 'disconnect'): void {
  if (c.network === 'host') throw failedPrecondition('container cannot be disconnected from host network or connected to host network');
  if (joinedContainer(c.network) !== undefined)
    throw failedPrecondition('container sharing network namespace with another container or host cannot be connected to any other network');
  if (c.network === 'none')
    throw failedPrecondition(
      verb === 'connect'
        ? 'container cannot be connected to multiple networks with one of the networks in private (none) mode'
        : 'container cannot be disconnected from the none network',
    );
}

/** `network connect NETWORK`: NETWORK must not be `none`/`host`/`container:` (they are modes, not networks). */
export function requireConnectable(network: string): void {
  if (network === 'host') throw failedPrecondition('container cannot be disconnected from host network or connected to host network');
  if (network === 'none' || joinedContainer(network) !== undefined)
    throw failedPrecondition(`container cannot be connected to network "${network}": it is a network mode, not a network`);
}

/** The config with `conn` added (`network` is the network's canonical name). */
export function withConnection(c: ContainerConfig, containerName: string, conn: NetworkConnection): ContainerConfig {
  if (configuredNetworks(c).includes(conn.network))
    throw alreadyExists(`endpoint with name ${containerName} already exists in network ${conn.network}`);
  const clean: NetworkConnection = {
    network: conn.network,
    ...(conn.aliases?.length ? { aliases: [...conn.aliases] } : {}),
    ...(conn.ip ? { ip: conn.ip } : {}),
  };
  if (conn.network === c.network) {
    // Connected again to its primary network: back in first place, with the new endpoint settings.
    const { primaryDisconnected: _gone, ...rest } = c;
    return { ...rest, networkAliases: clean.aliases, ip: clean.ip };
  }
  return { ...c, connectedNetworks: [...(c.connectedNetworks ?? []), clean] };
}

/** The config without `network` (canonical name); FailedPrecondition when it is not connected. */
export function withoutConnection(c: ContainerConfig, containerName: string, network: string): ContainerConfig {
  if (!configuredNetworks(c).includes(network)) throw notConnected(containerName, network);
  if (network === c.network && !c.primaryDisconnected) return { ...c, primaryDisconnected: true };
  const rest = (c.connectedNetworks ?? []).filter((n) => n.network !== network);
  const { connectedNetworks: _old, ...base } = c;
  return rest.length ? { ...base, connectedNetworks: rest } : base;
}

export function notConnected(containerName: string, network: string): Error {
  return failedPrecondition(`container ${containerName} is not connected to network ${network}`);
}

/** `--alias` values: Docker's rule for names, so they can become DNS names. */
export function checkAliases(aliases: readonly string[]): void {
  for (const a of aliases) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(a)) throw invalidArgument(`invalid alias ${JSON.stringify(a)}`);
  }
}
