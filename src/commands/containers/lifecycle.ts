/**
 * The shape every lifecycle command shares (start, stop, restart, kill,
 * pause, unpause): pick the targets, act on all of them at once in one
 * progress notification (a stop may take its whole timeout, and five stops
 * should not take five timeouts), log each outcome, and fail with one error
 * naming every container that failed. The view follows through the daemon's
 * events, not through the command; a long operation (stop, restart) is shown
 * on its items while it runs.
 */
import * as vscode from 'vscode';
import { describe, type RuntimeClient } from '../../../runtime/client';
import type { ContainerOperation, ContainerState } from '../../views/containers/containerNodes';
import type { CommandContext } from '../commandContext';
import { resolveTargets, type ContainerTarget } from './containerArgs';

export interface LifecycleAction<R> {
  /** "Stopping {0}" (for the progress notification; {0} is the name or a count). */
  readonly progress: (what: string) => string;
  /** "stopped" (for the log). */
  readonly done: string;
  /** For the palette's QuickPick. */
  readonly placeHolder: string;
  /** Where the command applies. */
  readonly states: readonly ContainerState[];
  /** Shown on each target's item while `act` runs (see ContainersTreeProvider.during). */
  readonly operation?: ContainerOperation;
  readonly act: (client: RuntimeClient, target: ContainerTarget) => Promise<R>;
}

/** Runs `action` on the targets of (node, nodes); returns each success's result, in target order. */
export async function runLifecycle<R>(context: CommandContext, node: unknown, nodes: unknown, action: LifecycleAction<R>): Promise<R[]> {
  const client = context.connection.requireClient();
  const targets = await resolveTargets(context, node, nodes, { placeHolder: action.placeHolder, canPickMany: true, states: action.states });
  if (targets.length === 0) return [];
  const what = targets.length === 1 ? targets[0].name : vscode.l10n.t('{0} containers', targets.length);
  const outcomes = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: action.progress(what) }, () =>
    Promise.allSettled(
      targets.map((t) => {
        const { operation } = action;
        return operation ? context.views.containers.during(t.id, operation, () => action.act(client, t)) : action.act(client, t);
      }),
    ),
  );
  const results: R[] = [];
  const failures: string[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') {
      context.log.info(`Container ${targets[i].name} ${action.done}`);
      results.push(outcome.value);
    } else {
      failures.push(`${targets[i].name}: ${describe(outcome.reason)}`);
    }
  });
  if (failures.length) throw new Error(failures.join('; '));
  return results;
}
