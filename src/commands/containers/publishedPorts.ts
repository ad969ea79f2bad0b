/**
 * Where a published port of a container is reached, for Open in Browser and
 * Copy Address. The port is published on the daemon's host: on this machine
 * for the local daemon (and for the daemon of a Remote-SSH window, whose
 * extension host runs beside it: `asExternalUri` then forwards the port to
 * the user's browser, as it does in code-server). For a daemon on an SSH
 * host reached from this window (Connect to Host…) the address is on that
 * machine: `reachableAddress` is the seam where a forward to this machine
 * goes (docs/networking.md); until then it names the remote host.
 *
 * Which port: the clicked port item; a container (node, name or ID) with
 * one published port, or a QuickPick of its ports; nothing, a QuickPick of
 * the published ports of every running container.
 */
import * as vscode from 'vscode';
import type { ContainerSummary, PortBinding } from '../../../runtime/client';
import { containerPortName, hostAddress } from '../../../runtime/presentation';
import { isContainerNode, isContainerPortNode, portNodes, type ContainerPortNode } from '../../views/containers/containerNodes';
import type { CommandContext } from '../commandContext';

/** A published port and the address to reach it at. */
export interface PortAddress {
  readonly node: ContainerPortNode;
  /** "localhost", "127.0.0.1", "[::1]", or the SSH host's name. */
  readonly host: string;
  readonly port: number;
}

/** "localhost:8080". */
export function addressText(address: PortAddress): string {
  return `${address.host}:${address.port}`;
}

/** The published port the arguments name, or undefined when the user cancelled or there is none. */
export async function pickPort(
  context: CommandContext,
  arg: unknown,
  options: { placeHolder: string; tcpOnly: boolean },
): Promise<ContainerPortNode | undefined> {
  if (isContainerPortNode(arg)) return arg;
  let containers: readonly ContainerSummary[];
  if (isContainerNode(arg)) containers = [arg.container];
  else {
    const all = await context.views.containers.containers();
    const ref = typeof arg === 'string' ? arg.trim() : '';
    containers = ref ? all.filter((c) => c.name === ref || c.id === ref || c.id.startsWith(ref)) : all;
    if (ref && containers.length === 0) throw new Error(vscode.l10n.t('No container {0}.', ref));
  }
  const ports = containers.flatMap(portNodes).filter((p) => !options.tcpOnly || (p.binding.protocol || 'tcp') === 'tcp');
  if (ports.length === 0) {
    void vscode.window.showInformationMessage(
      containers.length === 1
        ? vscode.l10n.t('{0} publishes no port (run it with a port to publish, or start it).', containers[0].name)
        : vscode.l10n.t('No running container publishes a port.'),
    );
    return undefined;
  }
  if (ports.length === 1) return ports[0];
  const picked = await vscode.window.showQuickPick(
    ports.map((node) => ({
      label: `${node.binding.hostPort} → ${containerPortName(node.binding)}`,
      description: containers.length === 1 ? hostAddress(node.binding) : node.containerName,
      node,
    })),
    { placeHolder: options.placeHolder },
  );
  return picked?.node;
}

/** Where `node`'s port is reached from this window (see the file comment). */
export function reachableAddress(context: CommandContext, node: ContainerPortNode): PortAddress {
  const remote = context.connection.current.host;
  // Seam for a daemon on an SSH host: a forward of the port to this machine replaces the remote host's name here.
  if (remote !== undefined) return { node, host: sshHostName(remote), port: node.binding.hostPort };
  return { node, host: localHost(node.binding), port: node.binding.hostPort };
}

/** Every host address ('' or 0.0.0.0 or ::) is reached on localhost; a specific one only on itself. */
function localHost(binding: PortBinding): string {
  const ip = binding.hostIp;
  if (ip === '' || ip === '0.0.0.0' || ip === '::') return 'localhost';
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** "ssh://user@build-box:2222" → "build-box". */
function sshHostName(target: string): string {
  const rest = target.replace(/^ssh:\/\//, '');
  const host = rest.slice(rest.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d+$/, '');
}
