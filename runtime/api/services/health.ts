/**
 * grpc.health.v1.Health. "" is the daemon as a whole; each registered
 * service name reports its own status. NOT_SERVING is set while draining on
 * shutdown, so a client that watches health sees the daemon go away cleanly.
 */
import { EventEmitter } from 'node:events';
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
} from '../gen/grpc/health/v1/health';
import { notFound } from '../../errdefs/errdefs';
import type { HandlerAdapter } from '../server';

export { ServingStatus };

export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly changes = new EventEmitter();

  constructor(serviceNames: readonly string[]) {
    this.statuses.set('', ServingStatus.SERVING);
    for (const name of serviceNames) this.statuses.set(name, ServingStatus.SERVING);
    this.changes.setMaxListeners(0);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  setAll(status: ServingStatus): void {
    for (const name of this.statuses.keys()) this.statuses.set(name, status);
    this.changes.emit('change');
  }

  onChange(listener: () => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }
}

export function healthService(adapt: HandlerAdapter, health: HealthStatus): HealthServer {
  return {
    check: adapt.unary<HealthCheckRequest, HealthCheckResponse>('Check', async (_ctx, request) => {
      const status = health.get(request.service);
      if (status === undefined) throw notFound(`unknown service "${request.service}"`);
      return { status };
    }),
    watch: adapt.serverStream<HealthCheckRequest, HealthCheckResponse>('Watch', async (ctx, request, send) => {
      let last: ServingStatus | undefined;
      let wake: (() => void) | undefined;
      const unsubscribe = health.onChange(() => wake?.());
      ctx.signal.addEventListener('abort', () => wake?.(), { once: true });
      try {
        while (!ctx.signal.aborted) {
          const status = health.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
          if (status !== last) {
            await send({ status });
            last = status;
          }
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        unsubscribe();
      }
    }),
  };
}
