/**
 * The RuntimeService RPCs gantryd does not serve yet, each with what is
 * missing, so a kubelet or crictl gets UNIMPLEMENTED and a reason instead of
 * a crash or a silent success. docs/cri.md lists the plan for each group.
 */
import type { HandlerAdapter } from '../api/server';
import { unimplemented } from '../errdefs/errdefs';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';

const NO_SANDBOXES = 'gantryd has no pod sandbox statistics yet (docs/cri.md)';
const NO_CONTAINERS = 'gantryd does not serve this for CRI containers yet (resources and statistics; docs/cri.md)';
const NO_STREAMING = 'gantryd has no CRI streaming server yet (exec, attach and port-forward URLs; docs/cri.md)';

/** RPC name → what is missing. */
export const MISSING: Record<string, string> = {
  PodSandboxStats: NO_SANDBOXES,
  ListPodSandboxStats: NO_SANDBOXES,
  ListPodSandboxMetrics: NO_SANDBOXES,
  ListMetricDescriptors: 'gantryd exports no CRI pod metrics yet (docs/cri.md)',
  UpdateContainerResources: NO_CONTAINERS,
  ContainerStats: NO_CONTAINERS,
  ListContainerStats: NO_CONTAINERS,
  Exec: NO_STREAMING,
  Attach: NO_STREAMING,
  PortForward: NO_STREAMING,
  GetContainerEvents: 'gantryd has no CRI container events yet (evented PLEG; docs/cri.md)',
  CheckpointContainer: 'gantryd does not checkpoint containers (no CRIU support)',
};

const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1);

/** A handler per RPC in MISSING, keyed as the generated RuntimeServiceServer keys them. */
export function unimplementedRuntime(adapt: HandlerAdapter): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {};
  for (const [rpc, reason] of Object.entries(MISSING)) {
    const fail = async (): Promise<never> => {
      throw unimplemented(`${rpc} is not implemented: ${reason}`);
    };
    handlers[lowerFirst(rpc)] = rpc === 'GetContainerEvents' ? adapt.serverStream(`cri.${rpc}`, fail) : adapt.unary(`cri.${rpc}`, fail);
  }
  return handlers;
}
