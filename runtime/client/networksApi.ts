/**
 * `client.networks`: gantry.v1.Networks, the CNI networks containers attach
 * to (docs/networking.md). Failures are GantryErrors (rpc.ts); removing a
 * network in use fails with a FailedPrecondition naming its containers.
 */
import type { CreateNetworkRequest, NetworkInfo, NetworksClient, PruneNetworksResponse } from '../api/gen/gantry/v1/networks';
import { unary, type CallOpts } from './rpc';

/** What `network create` asks for; only the name is required. */
export type CreateNetworkOptions = Partial<CreateNetworkRequest> & { name: string };

export class NetworksApi {
  constructor(private readonly networks: NetworksClient) {}

  async create(request: CreateNetworkOptions, opts?: CallOpts): Promise<NetworkInfo> {
    const { network } = await unary(
      this.networks,
      this.networks.create,
      { subnet: '', gateway: '', internal: false, labels: {}, options: {}, ...request },
      opts,
    );
    return network!;
  }

  async list(opts?: CallOpts): Promise<NetworkInfo[]> {
    return (await unary(this.networks, this.networks.list, {}, opts)).networks;
  }

  /** By name or ID. */
  async inspect(name: string, opts?: CallOpts): Promise<NetworkInfo> {
    const { network } = await unary(this.networks, this.networks.inspect, { name }, opts);
    return network!;
  }

  /** Resolves to the removed network's ID. */
  async remove(name: string, opts?: CallOpts): Promise<string> {
    return (await unary(this.networks, this.networks.remove, { name }, opts)).id;
  }

  /** Removes every user network no container is configured for. */
  prune(opts?: CallOpts): Promise<PruneNetworksResponse> {
    return unary(this.networks, this.networks.prune, {}, opts);
  }
}
