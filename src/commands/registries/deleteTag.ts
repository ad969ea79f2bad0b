/**
 * Gantry: Delete Tag… Deletes a tag from its registry (Registry/DeleteTag:
 * the tag is resolved to its manifest digest and that manifest deleted, so
 * every tag pointing at the same manifest goes too — the confirmation says
 * so). A registry that does not allow deletes answers 405; the daemon's
 * message says that and how a distribution registry enables them.
 *
 * Arguments: a tag node or "host/path:tag", then optionally `{ confirm:
 * false }` (tests). Returns the deleted manifest digest, or undefined when
 * not confirmed.
 */
import * as vscode from 'vscode';
import { REGISTRIES_VIEW } from '../../views/registries/registriesTreeProvider';
import type { CommandContext } from '../commandContext';
import { registryOptions, tagFromArg } from './registryArgs';

export async function deleteTag(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<string | undefined> {
  const options = registryOptions<{ confirm: boolean }>(rest);
  const reference = tagFromArg(node);
  const client = context.connection.requireClient();
  if (options.confirm !== false) {
    const remove = vscode.l10n.t('Delete');
    const chosen = await vscode.window.showWarningMessage(
      vscode.l10n.t('Delete {0} from the registry?', reference),
      {
        modal: true,
        detail: vscode.l10n.t(
          'The registry deletes the image manifest the tag points at: other tags of the same manifest go too. This cannot be undone.',
        ),
      },
      remove,
    );
    if (chosen !== remove) return undefined;
  }
  const digest = await client.images.deleteTag(reference);
  context.log.info(`Deleted ${reference} (${digest})`);
  context.views.refresh.refresh(REGISTRIES_VIEW, 'manual');
  void vscode.window.showInformationMessage(vscode.l10n.t('Deleted {0}', reference));
  return digest;
}
