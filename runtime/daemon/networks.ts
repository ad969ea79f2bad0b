/**
 * Wiring of networking in gantryd: the NetworkManager from the daemon's
 * flags, its start-up, the container side (containers/networking.ts) and the
 * Networks API. On a host without the CNI plugins or iptables gantryd still
 * starts: `none` and `host` work, and every use of a CNI network (a run on
 * the default bridge, `network create`) fails naming what to install.
 */
import { background } from '../context';
import type { NetworksServer } from '../api/gen/gantry/v1/networks';
import type { HandlerAdapter } from '../api/server';
import { networksService } from '../api/services/networks';
import { ContainerNetworks, type NetworkConnections } from '../containers/networking';
import { configuredNetworks } from '../containers/networkEndpoints';
import type { FileContainerStore } from '../containers/store';
import { describe, failedPrecondition } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import { createNetworkManager, EmbeddedDns, type NetworkManager } from '../network/index';
import type { Logger } from '../util/log';
import type { DaemonConfig } from './daemon';
import { rootlessNetworkUnavailable } from './rootless/rootless';
import { RootlessKitPorts } from './rootless/portDriver';

/** The daemon flags of networking (`gantry daemon --help`). */
export interface NetworkFlags {
  readonly cniBinDirs?: readonly string[];
  readonly cniConfDir?: string;
  readonly criCniConfDir?: string;
  readonly defaultBridge?: string;
  readonly defaultSubnet?: string;
  readonly ipamDir?: string;
}

export interface NetworksDeps {
  readonly config: DaemonConfig;
  readonly log: Logger;
  readonly events: Publisher;
  readonly store: FileContainerStore;
}

export interface Networks {
  readonly containers: ContainerNetworks;
  /** `connections`: network connect/disconnect, absent when containers are unavailable. */
  server(adapt: HandlerAdapter, connections?: NetworkConnections): NetworksServer;
  /** At shutdown, after the containers: see NetworkManager.close. */
  close(): Promise<void>;
  /** Why CNI networks cannot be used here, naming what to install (for `info`); undefined when they can. */
  readonly unavailable: string | undefined;
}

export async function startNetworks(deps: NetworksDeps): Promise<Networks> {
  const { config, log, events } = deps;
  const flags = config.network ?? {};
  const candidate = createNetworkManager({
    root: config.paths.root,
    state: config.paths.state,
    cniBinDirs: flags.cniBinDirs,
    cniConfDir: flags.cniConfDir,
    criCniConfDir: flags.criCniConfDir,
    defaultBridge: flags.defaultBridge,
    defaultSubnet: flags.defaultSubnet,
    ipamDir: flags.ipamDir,
    log,
    hostPorts: config.rootless?.net === 'slirp4netns' ? new RootlessKitPorts(config.rootless.rootlesskitState) : undefined,
  });
  let manager: NetworkManager | undefined;
  let unavailable: string | undefined;
  // Rootless: CNI runs in the daemon's own network namespace (slirp4netns), published ports go out through RootlessKit;
  // sharing the user's network (no /dev/net/tun) there is no bridge (docs/rootless.md).
  const availability =
    config.rootless?.net === 'host'
      ? { available: false, hint: rootlessNetworkUnavailable(config.rootless) }
      : await candidate.availability();
  if (!availability.available) {
    unavailable = availability.hint;
  } else {
    try {
      await candidate.init(background());
      manager = candidate;
    } catch (e) {
      unavailable = `CNI networks are unavailable: ${describe(e)}`;
    }
  }
  if (unavailable) log.warn('CNI networks are unavailable; only --network none and host work', { reason: unavailable });
  // Container DNS on user networks (docs/networking.md, "Names on user networks").
  const names = manager ? new EmbeddedDns({ networkInfo: (name) => manager.inspectNetwork(name), log }) : undefined;
  const containers = new ContainerNetworks({ manager, unavailable, events, log, names, lookup: (id) => deps.store.get(id) });
  return {
    containers,
    unavailable,
    close: async () => {
      await names?.close();
      await manager?.close();
    },
    server: (adapt, connections) =>
      networksService(adapt, {
        manager: () => {
          if (!manager) throw failedPrecondition(unavailable ?? 'CNI networks are unavailable');
          return manager;
        },
        events,
        configuredFor: (network) =>
          deps.store
            .list()
            .filter((c) => configuredNetworks(c.config).includes(network))
            .map((c) => ({ id: c.id, name: c.name })),
        connections: () => {
          if (!connections) throw failedPrecondition('containers are unavailable on this daemon');
          return connections;
        },
      }),
  };
}
