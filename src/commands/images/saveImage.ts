/**
 * Gantry: Save Image… Writes images to an archive file, as `gantry save`
 * does: a save dialog for the file, a QuickPick for the format (docker-archive,
 * which `docker load` reads, or an OCI image layout), then Images/Save's
 * stream written to the file as it arrives, with the bytes written in a
 * cancellable notification. For a host over SSH the archive comes over the
 * link and lands on this side. The file is written beside its final name
 * and renamed at the end, so a failed or cancelled save leaves no half
 * archive (docs/transfer.md).
 *
 * Arguments: an image node (and the selection) or record names; without
 * one, a QuickPick (several may be chosen). Then optionally `{ uri, format,
 * cancellation }`: `uri` and `format` answer the dialog and the pick (tests,
 * and callers that know). Returns the file's URI, or undefined when cancelled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as vscode from 'vscode';
import { formatSize } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs, resolveTargets, type ImageTarget } from './imageArgs';

export type ArchiveFormat = 'docker' | 'oci';

export interface SaveOptions {
  readonly uri?: vscode.Uri;
  readonly format?: ArchiveFormat;
  readonly cancellation?: vscode.CancellationToken;
}

export async function saveImage(
  context: CommandContext,
  node?: unknown,
  nodes?: unknown,
  ...rest: unknown[]
): Promise<vscode.Uri | undefined> {
  const options = optionsFromArgs<SaveOptions>([nodes, ...rest]);
  const client = context.connection.requireClient();
  const targets = await resolveTargets(context, node, Array.isArray(nodes) ? nodes : undefined, {
    placeHolder: vscode.l10n.t('Select the images to save'),
    canPickMany: true,
  });
  if (targets.length === 0) return undefined;
  const format = options.format ?? (await pickFormat());
  if (!format) return undefined;
  const uri = options.uri ?? (await askForFile(targets));
  if (!uri) return undefined;
  const names = targets.map((t) => t.name);
  const shown = targets.length === 1 ? targets[0].label : vscode.l10n.t('{0} images', targets.length);

  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Saving {0}', shown), cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const subscriptions = [token, options.cancellation]
        .filter((t): t is vscode.CancellationToken => t !== undefined)
        .map((t) => t.onCancellationRequested(() => abort.abort()));
      let written = 0;
      async function* counted(): AsyncGenerator<Buffer> {
        for await (const chunk of client.images.save(names, format, abort.signal)) {
          written += chunk.length;
          progress.report({ message: vscode.l10n.t('{0} written', formatSize(written)) });
          yield chunk;
        }
      }
      try {
        await writeFileAtomically(uri, counted());
      } catch (e) {
        if (abort.signal.aborted) {
          context.log.info(`Save of ${names.join(', ')} cancelled`);
          return undefined;
        }
        throw e;
      } finally {
        for (const s of subscriptions) s.dispose();
      }
      context.log.info(`Saved ${names.join(', ')} to ${uri.fsPath} (${format}, ${written} bytes)`);
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Saved {0} to {1} ({2})', shown, path.basename(uri.path), formatSize(written)),
      );
      return uri;
    },
  );
}

async function pickFormat(): Promise<ArchiveFormat | undefined> {
  const items: Array<vscode.QuickPickItem & { format: ArchiveFormat }> = [
    {
      label: vscode.l10n.t('Docker archive'),
      description: 'docker save',
      detail: vscode.l10n.t('Read by docker load, podman load, skopeo and gantry load'),
      format: 'docker',
    },
    {
      label: vscode.l10n.t('OCI image layout'),
      description: 'oci-archive',
      detail: vscode.l10n.t('Read by containerd, skopeo, podman and gantry load'),
      format: 'oci',
    },
  ];
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Archive format') }))?.format;
}

function askForFile(targets: readonly ImageTarget[]): Thenable<vscode.Uri | undefined> {
  const base = targets.length === 1 ? targets[0].label.replace(/[/:@]+/g, '_') : 'images';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return vscode.window.showSaveDialog({
    title: vscode.l10n.t('Save Image'),
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${base}.tar`) : undefined,
    filters: { [vscode.l10n.t('Tar archives')]: ['tar'] },
    saveLabel: vscode.l10n.t('Save'),
  });
}

/**
 * Streams `chunks` into `uri`: a local file is written beside its name and
 * renamed when complete (removed on failure); another file system gets the
 * whole archive at once through workspace.fs.
 */
async function writeFileAtomically(uri: vscode.Uri, chunks: AsyncIterable<Buffer>): Promise<void> {
  if (uri.scheme !== 'file') {
    const parts: Buffer[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    await vscode.workspace.fs.writeFile(uri, Buffer.concat(parts));
    return;
  }
  const partial = `${uri.fsPath}.${process.pid}.partial`;
  try {
    await pipeline(chunks, fs.createWriteStream(partial, { mode: 0o644 }));
    await fs.promises.rename(partial, uri.fsPath);
  } catch (e) {
    await fs.promises.rm(partial, { force: true });
    throw e;
  }
}
