/**
 * Port forwarding without publishing (docs/networking.md, "Port
 * forwarding"): one TCP connection to a port of a running container, made
 * inside the container's network namespace so that a server bound to its
 * 127.0.0.1 answers too, as with `kubectl port-forward`. Which namespace:
 * the host's for `--network host`; the attachment's namespace file for a CNI
 * network; otherwise (`none`, a shared namespace) the task's own,
 * `/proc/<pid>/ns/net`.
 */
import type { Ctx } from '../context';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import type { Attachment } from '../network/index';
import type { ForwardConnection, NamespaceTarget, RelayPool } from '../network/forward/dial';
import type { Container } from './containers';
import type { ContainerRecords } from './serviceDeps';

export type { ForwardConnection } from '../network/forward/dial';

export interface PortForwarderDeps {
  readonly records: Pick<ContainerRecords, 'resolve'>;
  /** The container's CNI attachment while it has one (ContainerNetworks.current). */
  readonly attachmentOf: (id: string) => Attachment | undefined;
  /** The relays into namespaces (network/forward/dial.ts). */
  readonly relays: RelayPool;
}

export class PortForwarder {
  constructor(private readonly deps: PortForwarderDeps) {}

  /** Connects to `port` in the container; NotFound, FailedPrecondition (not running), Unavailable (refused). */
  async dial(ctx: Ctx, ref: string, port: number): Promise<ForwardConnection> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`invalid port ${port}: want 1-65535`);
    const container = this.deps.records.resolve(ref);
    if (container.state.status !== 'running' || container.state.pid <= 0) {
      throw failedPrecondition(`container ${container.name} is not running`);
    }
    return this.deps.relays.dial(ctx, this.targetOf(container), port, `port ${port} in container ${container.name}`);
  }

  targetOf(container: Container): NamespaceTarget {
    if (container.config.network === 'host') return { host: true };
    const netns = this.deps.attachmentOf(container.id)?.netns;
    return { netns: netns || `/proc/${container.state.pid}/ns/net` };
  }
}
