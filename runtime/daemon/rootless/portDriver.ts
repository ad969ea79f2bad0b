/**
 * Published ports of a rootless gantryd with its own network (slirp4netns):
 * portmap publishes `-p 8080:80` inside the daemon's network namespace, and
 * RootlessKit's builtin port driver makes the user's 8080 lead there. One
 * call to RootlessKit's REST API (`<rootlesskit state>/api.sock`,
 * `POST /v1/ports`, `DELETE /v1/ports/{id}`) per published port. RootlessKit
 * lives as long as the namespace holder, not gantryd: after a restart its
 * ports of adopted containers still answer, and those of containers that died
 * meanwhile are withdrawn at recovery, found by their spec (docs/rootless.md).
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { failedPrecondition } from '../../errdefs/errdefs';
import type { HostPortPublisher } from '../../network/index';
import type { PortMapping } from '../../network/ports/publish';

interface PortSpec {
  readonly proto: string;
  readonly parentIP: string;
  readonly parentPort: number;
  readonly childPort: number;
}

interface PortStatus {
  readonly id: number;
  readonly spec?: Partial<PortSpec>;
}

function specOf(m: PortMapping): PortSpec {
  return { proto: m.protocol, parentIP: m.hostIp || '0.0.0.0', parentPort: m.hostPort, childPort: m.hostPort };
}

function sameSpec(a: Partial<PortSpec> | undefined, b: PortSpec): boolean {
  return a?.proto === b.proto && a.parentIP === b.parentIP && a.parentPort === b.parentPort && a.childPort === b.childPort;
}

export class RootlessKitPorts implements HostPortPublisher {
  private readonly socket: string;
  /** The ports this gantryd exposed, by container; after a restart, the reservation table's mappings name them (unpublish). */
  private readonly exposed = new Map<string, number[]>();

  constructor(rootlesskitState: string) {
    this.socket = path.join(rootlesskitState, 'api.sock');
  }

  async publish(containerId: string, mappings: readonly PortMapping[]): Promise<void> {
    await this.unpublish(containerId);
    const ids: number[] = [];
    this.exposed.set(containerId, ids);
    try {
      // A port with the same spec is already there when a gantryd was killed after exposing it: it is this container's
      // (the reservation table gives a host port to one container only), so it is taken over, not exposed twice.
      const live = await this.list();
      for (const m of mappings) {
        const spec = specOf(m);
        const existing = live.find((p) => sameSpec(p.spec, spec) && !ids.includes(p.id));
        ids.push(existing ? existing.id : ((await this.call('POST', '/v1/ports', spec)) as PortStatus).id);
      }
    } catch (e) {
      await this.unpublish(containerId);
      throw e;
    }
  }

  async unpublish(containerId: string, mappings: readonly PortMapping[] = []): Promise<void> {
    const ids = new Set(this.exposed.get(containerId) ?? []);
    this.exposed.delete(containerId);
    // Exposed by an earlier gantryd (the namespace holder keeps RootlessKit's ports across restarts): found by their spec.
    if (mappings.length > 0) {
      const live = await this.list().catch(() => []);
      for (const m of mappings) for (const p of live.filter((l) => sameSpec(l.spec, specOf(m)))) ids.add(p.id);
    }
    for (const id of ids) await this.call('DELETE', `/v1/ports/${id}`).catch(() => undefined);
  }

  /** RootlessKit's exposed ports (`GET /v1/ports`). */
  async list(): Promise<PortStatus[]> {
    const ports = await this.call('GET', '/v1/ports');
    return Array.isArray(ports) ? (ports as PortStatus[]) : [];
  }

  private call(method: string, urlPath: string, body?: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        { socketPath: this.socket, method, path: urlPath, headers: data ? { 'Content-Type': 'application/json' } : {} },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            if ((res.statusCode ?? 500) >= 300) {
              const spec = body as { parentIP?: string; parentPort?: number } | undefined;
              const what = spec ? ` ${spec.parentIP}:${spec.parentPort}` : '';
              reject(failedPrecondition(`RootlessKit could not expose port${what}: ${text.trim() || `HTTP ${res.statusCode}`}`));
              return;
            }
            try {
              resolve(text ? JSON.parse(text) : undefined);
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      req.on('error', (e) => reject(failedPrecondition(`RootlessKit's API (${this.socket}) failed: ${e.message}`)));
      req.end(data);
    });
  }
}
