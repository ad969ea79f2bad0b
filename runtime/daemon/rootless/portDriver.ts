/**
 * Published ports of a rootless gantryd with its own network (slirp4netns):
 * portmap publishes `-p 8080:80` inside the daemon's network namespace, and
 * RootlessKit's builtin port driver makes the user's 8080 lead there. One
 * call to RootlessKit's REST API (`<rootlesskit state>/api.sock`,
 * `POST /v1/ports`, `DELETE /v1/ports/{id}`) per published port; the ports
 * RootlessKit exposes die with it, so there is nothing to recover after a
 * restart (docs/rootless.md).
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { failedPrecondition } from '../../errdefs/errdefs';
import type { HostPortPublisher } from '../../network/index';
import type { PortMapping } from '../../network/ports/publish';

interface PortStatus {
  readonly id: number;
}

export class RootlessKitPorts implements HostPortPublisher {
  private readonly socket: string;
  private readonly exposed = new Map<string, number[]>();

  constructor(rootlesskitState: string) {
    this.socket = path.join(rootlesskitState, 'api.sock');
  }

  async publish(containerId: string, mappings: readonly PortMapping[]): Promise<void> {
    await this.unpublish(containerId);
    const ids: number[] = [];
    this.exposed.set(containerId, ids);
    try {
      for (const m of mappings) {
        const spec = { proto: m.protocol, parentIP: m.hostIp || '0.0.0.0', parentPort: m.hostPort, childPort: m.hostPort };
        const status = (await this.call('POST', '/v1/ports', spec)) as PortStatus;
        ids.push(status.id);
      }
    } catch (e) {
      await this.unpublish(containerId);
      throw e;
    }
  }

  async unpublish(containerId: string): Promise<void> {
    const ids = this.exposed.get(containerId) ?? [];
    this.exposed.delete(containerId);
    for (const id of ids) await this.call('DELETE', `/v1/ports/${id}`).catch(() => undefined);
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
