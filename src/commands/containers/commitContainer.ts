/**
 * Gantry: Commit Container… Makes a new image of a container's changes, as
 * `gantry commit` does (a running container is paused while its files are
 * read). Arguments: a node or name/ID (without one, a QuickPick), then the
 * new image's name as a string (without one, an input box; empty leaves the
 * image untagged). Shows progress; the Images view shows the new image from
 * its event. Returns the new image record.
 */
import * as vscode from 'vscode';
import { describe, type ImageSummary } from '../../../runtime/client';
import { imageReference } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';

export async function commitContainer(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<ImageSummary | undefined> {
  const client = context.connection.requireClient();
  const given = rest.find((a): a is string => typeof a === 'string');
  const [target] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the container to commit') });
  if (!target) return undefined;
  const reference = given ?? (await askForName(target.name));
  if (reference === undefined) return undefined;
  const image = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Committing {0}', target.name) },
    async (progress) => {
      progress.report({ message: vscode.l10n.t('reading its changes and writing the new layer…') });
      return client.images.commit({ container: target.id, reference: reference.trim() });
    },
  );
  context.log.info(`Committed ${target.name} as ${image.name} (${image.id})`);
  void vscode.window.showInformationMessage(
    reference.trim()
      ? vscode.l10n.t('Committed {0} as {1}', target.name, reference.trim())
      : vscode.l10n.t('Committed {0} as an untagged image {1}', target.name, image.id.slice('sha256:'.length, 'sha256:'.length + 12)),
  );
  return image;
}

function askForName(container: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Commit Container'),
    prompt: vscode.l10n.t('The new image of {0}, as repository:tag (empty: untagged)', container),
    placeHolder: 'myapp:snapshot',
    validateInput: (input) => {
      if (!input.trim()) return undefined;
      try {
        if (imageReference(input.trim()).digest) return vscode.l10n.t('A tag cannot contain a digest');
        return undefined;
      } catch (e) {
        return describe(e);
      }
    },
  });
}
