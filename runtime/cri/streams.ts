/**
 * Exec, Attach and PortForward: each checks its request as the kubelet and
 * containerd do (the container or sandbox exists and runs; at least one of
 * stdin, stdout and stderr; no stderr with a TTY, whose output is one
 * stream) and answers a one-time URL of the streaming server
 * (streaming/server.ts), where the stream itself runs.
 */
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './gen/runtime/v1/api';
import type { CriContainers } from './podContainers';
import type { CriSandboxes } from './sandboxes';
import type { StreamUrls } from './streaming/streaming';

export class CriStreams {
  constructor(
    private readonly containers: Pick<CriContainers, 'find'>,
    private readonly sandboxes: Pick<CriSandboxes, 'find'>,
    private readonly urls: StreamUrls,
  ) {}

  exec(r: ExecRequest): { url: string } {
    if (r.cmd.length === 0) throw invalidArgument('Exec: cmd is empty');
    const containerId = this.runningContainer(r.containerId);
    checkStreams('Exec', r);
    return {
      url: this.urls.urlFor({ kind: 'exec', containerId, cmd: [...r.cmd], tty: r.tty, stdin: r.stdin, stdout: r.stdout, stderr: r.stderr }),
    };
  }

  attach(r: AttachRequest): { url: string } {
    const containerId = this.runningContainer(r.containerId);
    checkStreams('Attach', r);
    return { url: this.urls.urlFor({ kind: 'attach', containerId, tty: r.tty, stdin: r.stdin, stdout: r.stdout, stderr: r.stderr }) };
  }

  portForward(r: PortForwardRequest): { url: string } {
    const { infra } = this.sandboxes.find(r.podSandboxId);
    if (infra.state.status !== 'running') throw failedPrecondition(`pod sandbox ${infra.id} is not ready`);
    for (const port of r.port) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`PortForward: invalid port ${port}: want 1-65535`);
    }
    return { url: this.urls.urlFor({ kind: 'portforward', podSandboxId: infra.id, ports: [...r.port] }) };
  }

  private runningContainer(ref: string): string {
    const { container } = this.containers.find(ref);
    if (container.state.status !== 'running') throw failedPrecondition(`container ${container.id} is not running`);
    return container.id;
  }
}

function checkStreams(rpc: string, r: { tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): void {
  if (!r.stdin && !r.stdout && !r.stderr) throw invalidArgument(`${rpc}: one of stdin, stdout and stderr must be set`);
  if (r.tty && r.stderr) throw invalidArgument(`${rpc}: tty and stderr cannot both be set (a TTY has one output stream)`);
}
