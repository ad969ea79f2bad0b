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

  /**
   * `network connect`: a running container gets the network now, a created
   * or stopped one at its next start; recorded with the container.
   */
  async connect(network: string, container: string, opts: { aliases?: string[]; ip?: string } & CallOpts = {}): Promise<void> {
    const { aliases = [], ip = '', ...call } = opts;
    await unary(this.networks, this.networks.connect, { network, container, aliases, ip }, call);
  }

  /** `network disconnect`; `force`: also when the network is gone or its DEL fails. */
  async disconnect(network: string, container: string, opts: { force?: boolean } & CallOpts = {}): Promise<void> {
    const { force = false, ...call } = opts;
    await unary(this.networks, this.networks.disconnect, { network, container, force }, call);
  }

  /** Removes every user network no container is configured for. */
  prune(opts?: CallOpts): Promise<PruneNetworksResponse> {
    return unary(this.networks, this.networks.prune, {}, opts);
  }
}
