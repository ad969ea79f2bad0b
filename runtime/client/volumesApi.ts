/**
 * `client.volumes`: gantry.v1.Volumes, named and anonymous volumes
 * (docs/volumes.md). Failures are GantryErrors (rpc.ts); removing a volume
 * in use fails with a FailedPrecondition: `volume is in use - [ID…]`.
 */
import type { PruneVolumesResponse, Volume, VolumesClient } from '../api/gen/gantry/v1/volumes';
import { unary, type CallOpts } from './rpc';

/** What `volume create` asks for; everything is optional ('' name: a generated one). */
export interface CreateVolumeOptions {
  readonly name?: string;
  readonly labels?: Record<string, string>;
  readonly options?: Record<string, string>;
}

export class VolumesApi {
  constructor(private readonly volumes: VolumesClient) {}

  async create(request: CreateVolumeOptions = {}, opts?: CallOpts): Promise<Volume> {
    const { volume } = await unary(
      this.volumes,
      this.volumes.create,
      { name: request.name ?? '', driver: 'local', labels: request.labels ?? {}, options: request.options ?? {} },
      opts,
    );
    return volume!;
  }

  /** `withSize`: each volume's size in bytes (else -1). Filters: dangling=, label=, name=, driver=. */
  async list(options: { filters?: string[]; withSize?: boolean } = {}, opts?: CallOpts): Promise<Volume[]> {
    const request = { filters: options.filters ?? [], withSize: options.withSize ?? false };
    return (await unary(this.volumes, this.volumes.list, request, opts)).volumes;
  }

  async inspect(name: string, opts?: CallOpts): Promise<Volume> {
    return (await unary(this.volumes, this.volumes.inspect, { name }, opts)).volume!;
  }

  /** `force`: a missing volume is no error (an in-use one still is). */
  async remove(name: string, opts: CallOpts & { force?: boolean } = {}): Promise<void> {
    const { force = false, ...call } = opts;
    await unary(this.volumes, this.volumes.remove, { name, force }, call);
  }

  /** Unused anonymous volumes; `all`: unused named ones too. */
  prune(options: { all?: boolean; filters?: string[] } = {}, opts?: CallOpts): Promise<PruneVolumesResponse> {
    return unary(this.volumes, this.volumes.prune, { all: options.all ?? false, filters: options.filters ?? [] }, opts);
  }
}
