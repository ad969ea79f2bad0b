/** gantry.v1.Networks over the NetworkManager (runtime/network/, docs/networking.md). */
import type { Ctx } from '../../context';
import { invalidArgument } from '../../errdefs/errdefs';
import type { Publisher } from '../../events/events';
import { NetworkTopics, type NetworkConnections } from '../../containers/networking';
import type { ContainerRef, NetworkInfo, NetworkManager } from '../../network/index';
import type { NetworkInfo as WireNetwork, NetworksServer } from '../gen/gantry/v1/networks';
import type { HandlerAdapter } from '../server';

export interface NetworksDeps {
  /** The manager, or a FailedPrecondition naming what to install. */
  readonly manager: () => NetworkManager;
  readonly events: Publisher;
  /** Names of the containers configured for a network, running or not (a network in use is not removed). */
  readonly configuredFor: (network: string) => ContainerRef[];
  /** `network connect|disconnect`, or a FailedPrecondition when containers are unavailable. */
  readonly connections: () => NetworkConnections;
}

/** Docker's rule for network names (as for container names). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const RESERVED = new Set(['none', 'host', 'default']);

export function networksService(adapt: HandlerAdapter, deps: NetworksDeps): NetworksServer {
  const wire = async (n: NetworkInfo): Promise<WireNetwork> => ({
    id: n.id,
    name: n.name,
    driver: n.driver,
    bridge: n.bridge,
    subnet: n.subnet,
    gateway: n.gateway,
    internal: n.internal,
    labels: { ...n.labels },
    options: { ...n.options },
    createdAt: n.created ? new Date(n.created) : undefined,
    builtin: n.builtin,
    readOnly: n.readOnly,
    containers: await deps.manager().networkUsers(n.name),
  });

  const remove = async (ctx: Ctx, name: string): Promise<NetworkInfo> => {
    const manager = deps.manager();
    const info = await manager.inspectNetwork(name);
    await manager.removeNetwork(ctx, info.name, deps.configuredFor(info.name));
    deps.events.publish(NetworkTopics.destroy, info.id, { name: info.name, driver: info.driver });
    return info;
  };

  return {
    create: adapt.unary('Create', async (ctx, req) => {
      if (!NAME.test(req.name)) throw invalidArgument(`invalid network name ${JSON.stringify(req.name)}: want [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
      if (RESERVED.has(req.name) || req.name.startsWith('container:')) throw invalidArgument(`network name "${req.name}" is reserved`);
      const info = await deps.manager().createNetwork(ctx, {
        name: req.name,
        subnet: req.subnet || undefined,
        gateway: req.gateway || undefined,
        internal: req.internal,
        labels: req.labels,
        options: req.options,
      });
      deps.events.publish(NetworkTopics.create, info.id, { name: info.name, driver: info.driver });
      return { network: await wire(info) };
    }),
    list: adapt.unary('List', async () => ({
      networks: await Promise.all((await deps.manager().listNetworks()).map(wire)),
    })),
    inspect: adapt.unary('Inspect', async (_ctx, req) => ({ network: await wire(await deps.manager().inspectNetwork(req.name)) })),
    remove: adapt.unary('Remove', async (ctx, req) => ({ id: (await remove(ctx, req.name)).id })),
    prune: adapt.unary('Prune', async (ctx) => {
      const removed: string[] = [];
      const manager = deps.manager();
      for (const n of await manager.listNetworks()) {
        if (n.builtin || n.readOnly || deps.configuredFor(n.name).length) continue;
        if ((await manager.networkUsers(n.name)).length) continue;
        removed.push((await remove(ctx, n.name)).name);
      }
      return { removed };
    }),
    connect: adapt.unary('Connect', async (ctx, req) => {
      if (!req.network || !req.container) throw invalidArgument('network connect needs a network and a container');
      await deps.connections().connect(ctx, req.container, {
        network: req.network,
        aliases: req.aliases,
        ip: req.ip || undefined,
      });
      return {};
    }),
    disconnect: adapt.unary('Disconnect', async (ctx, req) => {
      if (!req.network || !req.container) throw invalidArgument('network disconnect needs a network and a container');
      await deps.connections().disconnect(ctx, req.container, req.network, req.force);
      return {};
    }),
  };
}
