/**
 * What the container commands act on. From the tree, VS Code passes the
 * clicked node and the selection; from the palette nothing, and the user
 * picks from a QuickPick of the containers in the states where the command
 * applies; from code and tests, names or IDs as strings.
 *
 * A selection may mix states (three containers selected, one running, and
 * Start clicked on a stopped one): the ones the command does not apply to
 * are left out, except the clicked one, whose menu offered the command.
 */
import * as vscode from 'vscode';
import { type ContainerSummary } from '../../../runtime/client';
import { containerState, coarseStatus, imageDisplay, isContainerNode, type ContainerState } from '../../views/containers/containerNodes';
import { shortId } from '../../../runtime/presentation';
import { containerDisplayName } from '../../views/containers/podNodes';
import type { CommandContext } from '../commandContext';
import { pickTargets } from '../pickTargets';

/** A container a command acts on: what to send the daemon, and what to call it in messages. */
export interface ContainerTarget {
  /** ID, name or unique ID prefix: the daemon accepts all three. */
  readonly id: string;
  readonly name: string;
  /** Its state in the list the node came from; undefined for a string argument. */
  readonly state: ContainerState | undefined;
}

export function targetOf(container: ContainerSummary): ContainerTarget {
  return { id: container.id, name: containerDisplayName(container), state: containerState(container.status) };
}

/**
 * The containers named by command arguments: the selection when the clicked
 * node is part of it (else the clicked node), strings taken as names or IDs.
 * `states` leaves out selected nodes in other states (never the clicked one).
 */
export function targetsFromArgs(node: unknown, nodes: unknown, states?: readonly ContainerState[]): ContainerTarget[] {
  const selection = Array.isArray(nodes) && (node === undefined || nodes.includes(node)) ? nodes : [node];
  const targets: ContainerTarget[] = [];
  for (const n of selection) {
    if (isContainerNode(n)) {
      const target = targetOf(n.container);
      if (n === node || !states || states.includes(target.state!)) targets.push(target);
    } else if (typeof n === 'string' && n.trim()) {
      targets.push({ id: n.trim(), name: n.trim(), state: undefined });
    }
  }
  const seen = new Set<string>();
  return targets.filter((t) => !seen.has(t.id) && seen.add(t.id));
}

/** The options object among trailing arguments, if any. */
export function optionsFromArgs<T extends object>(args: readonly unknown[]): Partial<T> {
  const found = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && !isContainerNode(a));
  return found ?? {};
}

export interface PickOptions {
  readonly placeHolder: string;
  readonly canPickMany?: boolean;
  /** The states in which the command applies (default: any). */
  readonly states?: readonly ContainerState[];
}

/** Asks for containers with a QuickPick of the view's current list; empty when the user cancels. */
export async function pickContainers(context: CommandContext, options: PickOptions): Promise<ContainerTarget[]> {
  const { states } = options;
  const containers = (await context.views.containers.containers()).filter((c) => !states || states.includes(containerState(c.status)));
  if (containers.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There are no containers to choose from.'));
    return [];
  }
  const now = Date.now();
  const items = [...containers]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((container) => ({
      label: container.name,
      description: `${imageDisplay(container)} · ${coarseStatus(container, now)}`,
      detail: shortId(container.id),
      container,
    }));
  return pickTargets(items, options, (p) => targetOf(p.container));
}

/** The targets from the arguments, or else the user's pick. */
export async function resolveTargets(
  context: CommandContext,
  node: unknown,
  nodes: unknown,
  pick: PickOptions,
): Promise<ContainerTarget[]> {
  const given = targetsFromArgs(node, nodes, pick.states);
  return given.length ? given : pickContainers(context, pick);
}
