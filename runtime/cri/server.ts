/**
 * The two CRI services as grpc-js handlers, ready for a Server
 * (runtime/daemon/cri.ts binds them on the CRI socket).
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HandlerAdapter } from '../api/server';
import type { CriDeps } from './cri';
import { ImageServiceService, RuntimeServiceService, type ImageServiceServer, type RuntimeServiceServer } from './gen/runtime/v1/api';
import { criImageService } from './images';
import { cgroupDriverOf, statusOf, versionOf } from './runtimeInfo';
import { podHandlers } from './pods';
import { unimplementedRuntime } from './unimplemented';

/** Every RPC has a handler: the runtime info, pods (pods.ts), the rest UNIMPLEMENTED (test/unit/cri/server.test.ts checks the set). */
export function criRuntimeService(adapt: HandlerAdapter, deps: CriDeps): RuntimeServiceServer {
  return {
    ...unimplementedRuntime(adapt),
    ...podHandlers(adapt, deps),
    version: adapt.unary('cri.Version', async () => versionOf()),
    status: adapt.unary('cri.Status', async (_ctx, request) => statusOf(deps.runtime, request.verbose)),
    runtimeConfig: adapt.unary('cri.RuntimeConfig', async () => ({ linux: { cgroupDriver: cgroupDriverOf(deps.runtime) } })),
  } as RuntimeServiceServer;
}

export interface CriService {
  readonly definition: typeof RuntimeServiceService | typeof ImageServiceService;
  readonly implementation: UntypedServiceImplementation;
}

export function criServices(adapt: HandlerAdapter, deps: CriDeps): CriService[] {
  const images: ImageServiceServer = criImageService(adapt, deps.images, deps.log);
  return [
    { definition: RuntimeServiceService, implementation: criRuntimeService(adapt, deps) },
    { definition: ImageServiceService, implementation: images },
  ];
}
