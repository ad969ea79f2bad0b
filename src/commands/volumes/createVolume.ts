/**
 * Gantry: Create Volume… Asks for a name (checked as typed by the rule the
 * daemon applies; empty: a generated one) and creates the volume. The new
 * volume reaches the Volumes view through the daemon's /volumes/create
 * event. Argument `{ name, labels? }` creates without a prompt. Returns the
 * created volume, or undefined when the user cancelled.
 */
import * as vscode from 'vscode';
import type { Volume } from '../../../runtime/client';
import { volumeNameProblem } from '../../../runtime/options';
import type { CommandContext } from '../commandContext';

export interface CreateVolumeArgs {
  readonly name: string;
  readonly labels?: Record<string, string>;
}

export async function createVolume(context: CommandContext, arg?: unknown): Promise<Volume | undefined> {
  const given =
    typeof arg === 'object' && arg !== null && typeof (arg as CreateVolumeArgs).name === 'string' ? (arg as CreateVolumeArgs) : undefined;
  let name = given?.name;
  if (name === undefined) {
    const taken = new Set((await context.views.volumes.volumes().catch(() => [])).map((v) => v.name));
    name = await vscode.window.showInputBox({
      title: vscode.l10n.t('Create Volume'),
      prompt: vscode.l10n.t('Volume name (leave empty for a generated one)'),
      placeHolder: 'my-data',
      validateInput: (v) => {
        const trimmed = v.trim();
        if (trimmed === '') return undefined;
        return volumeNameProblem(trimmed) ?? (taken.has(trimmed) ? vscode.l10n.t('volume {0} already exists', trimmed) : undefined);
      },
    });
    if (name === undefined) return undefined;
  }
  const volume = await context.connection.requireClient().volumes.create({ name: name.trim(), labels: given?.labels ?? {} });
  context.log.info(`Created volume ${volume.name}`);
  return volume;
}
