/**
 * Gantry: Import Image… Makes a one-layer image of a filesystem tar archive
 * (plain, gzip or zstd), as `gantry import` does. Arguments: the archive as
 * a Uri or path (without one, an open dialog), then the image's name as a
 * string (without one, an input box; empty leaves it untagged). Returns the
 * new image record; the Images view shows it from its event.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { describe, type ImageSummary } from '../../../runtime/client';
import { imageReference } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';

export async function importImage(context: CommandContext, ...args: unknown[]): Promise<ImageSummary | undefined> {
  const client = context.connection.requireClient();
  const source = args.find((a): a is vscode.Uri | string => typeof a === 'string' || a instanceof vscode.Uri);
  const given = args.filter((a): a is string => typeof a === 'string')[source === undefined || source instanceof vscode.Uri ? 0 : 1];
  let uri = typeof source === 'string' ? vscode.Uri.file(source) : source;
  if (!uri) {
    const picked = await vscode.window.showOpenDialog({
      title: vscode.l10n.t('Import Image'),
      openLabel: vscode.l10n.t('Import'),
      canSelectMany: false,
      filters: { [vscode.l10n.t('Tar archives')]: ['tar', 'tgz', 'gz', 'zst'], [vscode.l10n.t('All files')]: ['*'] },
    });
    uri = picked?.[0];
  }
  if (!uri) return undefined;
  const reference = given ?? (await askForName(path.basename(uri.fsPath)));
  if (reference === undefined) return undefined;
  const file = uri.fsPath;
  await fs.promises.access(file, fs.constants.R_OK);
  const image = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Importing {0}', path.basename(file)) },
    () => client.images.import({ reference: reference.trim() }, fs.createReadStream(file)),
  );
  context.log.info(`Imported ${file} as ${image.name} (${image.id})`);
  return image;
}

function askForName(file: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Import Image'),
    prompt: vscode.l10n.t('The name of the image made of {0}, as repository:tag (empty: untagged)', file),
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
