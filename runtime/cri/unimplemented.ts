/**
 * The RuntimeService RPCs gantryd does not serve yet, each with what is
 * missing, so a kubelet or crictl gets UNIMPLEMENTED and a reason instead of
 * a crash or a silent success. docs/cri.md lists the plan for each group.
 */
import type { HandlerAdapter } from '../api/server';
import { unimplemented } from '../errdefs/errdefs';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';

const NO_METRICS = 'gantryd exports no CRI pod metrics yet (docs/cri.md)';

/** RPC name → what is missing. */
export const MISSING: Record<string, string> = {
  ListPodSandboxMetrics: NO_METRICS,
  ListMetricDescriptors: NO_METRICS,
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
    handlers[lowerFirst(rpc)] = adapt.unary(`cri.${rpc}`, fail);
  }
  return handlers;
}
