/**
 * Forward Port… : a port of a running container forwarded to a free port
 * of this machine (src/forwarding/portForwards.ts), with Open in Browser
 * and Copy Address offered when it listens. Works for any TCP port inside
 * the container, published or not, on the local daemon and on an SSH host.
 *
 * Arguments: a port item (its container port), a running container (node,
 * name or ID; asks for the port, suggesting a published one), or nothing (a
 * pick of the running containers first). `{ port }` skips the port prompt.
 * Returns the forward.
 */
import * as vscode from 'vscode';
import type { ContainerSummary } from '../../../runtime/client';
import type { ActiveForward } from '../../forwarding/portForwards';
import { isContainerNode, isContainerPortNode } from '../../views/containers/containerNodes';
import type { CommandContext } from '../commandContext';

function portProblem(text: string): string | undefined {
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : vscode.l10n.t('A TCP port number, 1–65535');
}

async function pickContainer(context: CommandContext, arg: unknown): Promise<ContainerSummary | undefined> {
  if (isContainerNode(arg)) return arg.container;
  // From the daemon, not the view's listing: a container started a moment ago may not be listed there yet.
  const running = await context.connection.requireClient().containers.list(false);
  if (typeof arg === 'string' && arg.trim()) {
    const ref = arg.trim();
    const found = running.find((c) => c.name === ref || c.id === ref || c.id.startsWith(ref));
    if (!found) throw new Error(vscode.l10n.t('No running container {0}.', ref));
    return found;
  }
  if (running.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No container is running.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    running.map((c) => ({ label: c.name, description: c.image, container: c })),
    { placeHolder: vscode.l10n.t('Select the container whose port to forward') },
  );
  return picked?.container;
}

export async function forwardPort(context: CommandContext, arg?: unknown, opts?: unknown): Promise<ActiveForward | undefined> {
  const options = opts as { port?: number; notify?: boolean } | undefined;
  let containerId: string;
  let remote: number | undefined = options?.port;
  if (isContainerPortNode(arg)) {
    containerId = arg.containerId;
    remote ??= arg.binding.containerPort;
  } else {
    const container = await pickContainer(context, arg);
    if (!container) return undefined;
    containerId = container.id;
    if (remote === undefined) {
      const suggested = container.ports.find((p) => (p.protocol || 'tcp') === 'tcp')?.containerPort;
      const typed = await vscode.window.showInputBox({
        prompt: vscode.l10n.t('Port inside {0} to forward to this machine', container.name),
        value: suggested ? String(suggested) : '',
        validateInput: portProblem,
      });
      if (typed === undefined) return undefined;
      remote = Number(typed.trim());
    }
  }
  const forward = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Forwarding port {0}…', remote) },
    () => context.forwards.forward(containerId, remote),
  );
  if (options?.notify !== false) void offerActions(forward);
  return forward;
}

async function offerActions(forward: ActiveForward): Promise<void> {
  const open = vscode.l10n.t('Open in Browser');
  const copy = vscode.l10n.t('Copy Address');
  const answer = await vscode.window.showInformationMessage(
    vscode.l10n.t('Port {0} of {1} is forwarded to localhost:{2}', forward.remote, forward.containerName, forward.local),
    open,
    copy,
  );
  if (answer === open)
    await vscode.env.openExternal(await vscode.env.asExternalUri(vscode.Uri.parse(`http://localhost:${forward.local}/`)));
  if (answer === copy) await vscode.env.clipboard.writeText(`localhost:${forward.local}`);
}

/** Stop Port Forwarding…: a pick of the forwards this window made (all of them with `{ all: true }`). */
export async function stopPortForwarding(context: CommandContext, _arg?: unknown, opts?: unknown): Promise<number> {
  const forwards = context.forwards.list();
  if ((opts as { all?: boolean } | undefined)?.all) {
    await context.forwards.stopAll();
    return forwards.length;
  }
  if (forwards.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No port is forwarded.'));
    return 0;
  }
  const picked = await vscode.window.showQuickPick(
    forwards.map((f) => ({ label: `localhost:${f.local} → ${f.containerName}:${f.remote}`, forward: f })),
    { placeHolder: vscode.l10n.t('Select the forwards to stop'), canPickMany: true },
  );
  for (const p of picked ?? []) await context.forwards.stop(p.forward);
  return picked?.length ?? 0;
}
