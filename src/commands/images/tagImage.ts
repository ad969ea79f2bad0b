/**
 * Gantry: Tag Image… Gives an image another name, as `docker tag` does.
 * Arguments: the source (an image node or record name; without one, a
 * QuickPick), then the new name as a string (without one, an input box
 * checked with imageReference). Returns the new image record.
 */
import * as vscode from 'vscode';
import { describe, type ImageSummary, invalidArgument } from '../../../runtime/client';
import { displayRepository, imageReference } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './imageArgs';

export async function tagImage(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<ImageSummary | undefined> {
  const client = context.connection.requireClient();
  // From the tree the second argument is the selection (a name applies to the clicked image only);
  // from code it may be the new name.
  const given = rest.find((a): a is string => typeof a === 'string');
  const [source] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the image to tag') });
  if (!source) return undefined;
  const target = given ?? (await askForName(source.name));
  if (!target?.trim()) return undefined;
  const image = await client.images.tag(source.name, validTarget(target.trim()));
  context.log.info(`Tagged ${source.name} as ${image.name}`);
  return image;
}

/** imageReference's normalised form of `value`; throws InvalidArgument for a bad name or a digest reference. */
function validTarget(value: string): string {
  const ref = imageReference(value);
  if (ref.digest) throw invalidArgument(vscode.l10n.t('A tag cannot contain a digest: {0}', value));
  return ref.name;
}

function askForName(sourceName: string): Thenable<string | undefined> {
  const value = `${displayRepository(sourceName)}:`;
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Tag Image'),
    prompt: vscode.l10n.t('The new name, as repository:tag (e.g. registry.example.com/team/app:1.2)'),
    value,
    valueSelection: [value.length, value.length],
    validateInput: (input) => {
      if (!input.trim()) return undefined;
      try {
        validTarget(input.trim());
        return undefined;
      } catch (e) {
        return describe(e);
      }
    },
  });
}
