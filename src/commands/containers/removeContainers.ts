/**
 * Gantry: Remove Container… Removes one or more containers (the selection
 * in the tree) with their logs and root filesystems, after one modal
 * confirmation. When any of them runs, the confirmation says so and its
 * button force-removes (kills first); a container found running only by the
 * daemon (a name given as a string, or a list that was out of date) gets a
 * second confirmation before it is forced.
 *
 * Arguments: a node or name/ID, the selection, then
 * `{ confirm?: boolean, force?: boolean }`: `confirm: false` skips every
 * prompt (a running container then fails unless `force`). Without targets,
 * a multi-select QuickPick. Returns the IDs the daemon removed.
 */
import * as vscode from 'vscode';
import { describe, kindOf } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs, resolveTargets, type ContainerTarget } from './containerArgs';

export interface RemoveOptions {
  readonly confirm?: boolean;
  readonly force?: boolean;
}

const LIVE = new Set(['running', 'paused', 'restarting']);

export async function removeContainers(context: CommandContext, node?: unknown, nodes?: unknown, ...rest: unknown[]): Promise<string[]> {
  const options = optionsFromArgs<RemoveOptions>(rest.length ? rest : [nodes]);
  const client = context.connection.requireClient();
  const targets = await resolveTargets(context, node, Array.isArray(nodes) ? nodes : undefined, {
    placeHolder: vscode.l10n.t('Select the containers to remove'),
    canPickMany: true,
  });
  if (targets.length === 0) return [];
  const prompt = options.confirm !== false;
  const live = targets.filter((t) => t.state !== undefined && LIVE.has(t.state));
  if (prompt && !(await confirmRemove(targets, live))) return [];
  // Confirming a removal that names running containers is consent to force them.
  const force = options.force ?? (prompt && live.length > 0);

  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Removing {0}', what(targets)) },
    // Each item shows "Removing…" until its removal settles (a forced one waits for the kill).
    () =>
      Promise.allSettled(targets.map((t) => context.views.containers.during(t.id, 'removing', () => removeOne(context, t, force, prompt)))),
  );
  const removed: string[] = [];
  const failures: string[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') failures.push(`${targets[i].name}: ${describe(outcome.reason)}`);
    else if (outcome.value) removed.push(outcome.value);
  });
  if (failures.length) throw new Error(vscode.l10n.t('Could not remove {0}', failures.join('; ')));
  return removed;

  async function removeOne(ctx: CommandContext, target: ContainerTarget, forced: boolean, ask: boolean): Promise<string | undefined> {
    let id: string;
    try {
      id = await client.containers.remove(target.id, forced);
    } catch (e) {
      const refused = kindOf(e) === 'FailedPrecondition' || kindOf(e) === 'Conflict';
      if (!refused || forced || !ask) throw e;
      if (!(await confirmForce(target, describe(e)))) return undefined;
      id = await client.containers.remove(target.id, true);
    }
    ctx.log.info(`Removed container ${target.name} (${id})`);
    return id;
  }
}

function what(targets: readonly ContainerTarget[]): string {
  return targets.length === 1 ? targets[0].name : vscode.l10n.t('{0} containers', targets.length);
}

async function confirmRemove(targets: readonly ContainerTarget[], live: readonly ContainerTarget[]): Promise<boolean> {
  const message =
    targets.length === 1
      ? vscode.l10n.t('Remove container {0}?', targets[0].name)
      : vscode.l10n.t('Remove {0} containers?', targets.length);
  const lines: string[] = [];
  if (targets.length > 1) lines.push(targets.map((t) => t.name).join('\n'));
  if (live.length) {
    lines.push(
      live.length === targets.length && targets.length === 1
        ? vscode.l10n.t('It is running: it will be killed first.')
        : vscode.l10n.t('Running, will be killed first: {0}', live.map((t) => t.name).join(', ')),
    );
  }
  lines.push(vscode.l10n.t('Its logs and file system changes are deleted.'));
  const button = live.length ? vscode.l10n.t('Force Remove') : vscode.l10n.t('Remove');
  return (await vscode.window.showWarningMessage(message, { modal: true, detail: lines.join('\n\n') }, button)) === button;
}

async function confirmForce(target: ContainerTarget, reason: string): Promise<boolean> {
  const force = vscode.l10n.t('Force Remove');
  const message = vscode.l10n.t('{0} is running.', target.name);
  return (await vscode.window.showWarningMessage(message, { modal: true, detail: reason }, force)) === force;
}
