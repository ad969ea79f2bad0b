/**
 * Gantry: Export Container… Writes a container's flattened filesystem as a
 * tar archive, as `gantry export` does. Arguments: a node or name/ID
 * (without one, a QuickPick), then where to write as a Uri or path (without
 * one, a save dialog). The file is written beside the target and renamed, so
 * a failed export leaves no half archive. Returns the file's Uri.
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as vscode from 'vscode';
import type { CommandContext } from '../commandContext';
import { resolveTargets } from './containerArgs';

export async function exportContainer(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<vscode.Uri | undefined> {
  const client = context.connection.requireClient();
  const given = rest.find((a): a is vscode.Uri | string => typeof a === 'string' || a instanceof vscode.Uri);
  const [target] = await resolveTargets(context, node, undefined, { placeHolder: vscode.l10n.t('Select the container to export') });
  if (!target) return undefined;
  const uri =
    given === undefined
      ? await vscode.window.showSaveDialog({
          title: vscode.l10n.t('Export Container'),
          saveLabel: vscode.l10n.t('Export'),
          defaultUri: vscode.Uri.file(`${target.name}.tar`),
          filters: { [vscode.l10n.t('Tar archives')]: ['tar'] },
        })
      : typeof given === 'string'
        ? vscode.Uri.file(given)
        : given;
  if (!uri) return undefined;
  const file = uri.fsPath;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Exporting {0}', target.name), cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const subscription = token.onCancellationRequested(() => abort.abort());
      const tmp = `${file}.${process.pid}.tmp`;
      let bytes = 0;
      async function* counted(): AsyncGenerator<Buffer> {
        for await (const chunk of client.containers.export(target.id, abort.signal)) {
          bytes += chunk.length;
          progress.report({ message: vscode.l10n.t('{0} MB written', (bytes / 1e6).toFixed(1)) });
          yield chunk;
        }
      }
      try {
        await pipeline(Readable.from(counted()), fs.createWriteStream(tmp, { mode: 0o644 }));
        await fs.promises.rename(tmp, file);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true });
        throw e;
      } finally {
        subscription.dispose();
      }
    },
  );
  context.log.info(`Exported ${target.name} to ${file}`);
  return uri;
}
