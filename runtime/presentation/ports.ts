/**
 * How published ports read, in Docker's words: `gantry ps`'s PORTS column
 * ("0.0.0.0:8080->80/tcp", consecutive ports folded into ranges) and
 * `gantry port`'s lines ("80/tcp -> 0.0.0.0:8080"). Pure functions of the
 * PortBinding records a container list or inspect carries.
 */
import type { PortBinding } from '../api/gen/gantry/v1/containers';

/** The host side, "0.0.0.0:8080" ("" = every address; IPv6 in brackets). */
export function hostAddress(b: Pick<PortBinding, 'hostIp' | 'hostPort'>): string {
  const ip = b.hostIp === '' ? '0.0.0.0' : b.hostIp.includes(':') ? `[${b.hostIp}]` : b.hostIp;
  return `${ip}:${b.hostPort}`;
}

/** "80/tcp": the container side, as `gantry port` names it. */
export function containerPortName(b: Pick<PortBinding, 'containerPort' | 'protocol'>): string {
  return `${b.containerPort}/${b.protocol || 'tcp'}`;
}

const protocolOf = (b: Pick<PortBinding, 'protocol'>) => b.protocol || 'tcp';

/** By container port, then protocol, host address and host port. */
function byContainerPort(a: PortBinding, b: PortBinding): number {
  return (
    a.containerPort - b.containerPort ||
    protocolOf(a).localeCompare(protocolOf(b)) ||
    a.hostIp.localeCompare(b.hostIp) ||
    a.hostPort - b.hostPort
  );
}

/**
 * The PORTS column of `ps`, as Docker's DisplayablePorts: per host address
 * and protocol, a run of consecutive container ports published on
 * consecutive host ports is one range ("0.0.0.0:8000-8001->80-81/tcp");
 * entries in container port order.
 */
export function portsText(bindings: readonly PortBinding[]): string {
  const sorted = [...bindings].sort(
    (a, b) => protocolOf(a).localeCompare(protocolOf(b)) || a.hostIp.localeCompare(b.hostIp) || byContainerPort(a, b),
  );
  const runs: { first: PortBinding; last: PortBinding }[] = [];
  for (const binding of sorted) {
    const run = runs[runs.length - 1];
    const continues =
      run &&
      run.first.hostIp === binding.hostIp &&
      protocolOf(run.first) === protocolOf(binding) &&
      binding.containerPort === run.last.containerPort + 1 &&
      binding.hostPort === run.last.hostPort + 1;
    if (continues) run.last = binding;
    else runs.push({ first: binding, last: binding });
  }
  const range = (from: number, to: number) => (from === to ? `${from}` : `${from}-${to}`);
  return runs
    .sort((a, b) => byContainerPort(a.first, b.first))
    .map(({ first, last }) => {
      const host = hostAddress({ hostIp: first.hostIp, hostPort: 0 }).replace(/:0$/, '');
      return `${host}:${range(first.hostPort, last.hostPort)}->${range(first.containerPort, last.containerPort)}/${protocolOf(first)}`;
    })
    .join(', ');
}

/** `gantry port CONTAINER`'s lines: "80/tcp -> 0.0.0.0:8080", one per binding, by container port. */
export function portLines(bindings: readonly PortBinding[]): string[] {
  return [...bindings].sort(byContainerPort).map((b) => `${containerPortName(b)} -> ${hostAddress(b)}`);
}
