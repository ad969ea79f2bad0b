/**
 * Gantry: Load Image… Reads an archive into the daemon, as `gantry load`
 * does: an open dialog for the file (docker-archive or OCI layout, plain,
 * gzip or zstd), then the file streamed to Images/Load with the bytes sent
 * in a cancellable notification. For a host over SSH the file goes over the
 * link. The daemon verifies everything before it writes a record, so a bad
 * or cancelled load changes nothing (docs/transfer.md); the loaded images
 * appear in the Images view through the daemon's events.
 *
 * Arguments (optional): `{ uri, cancellation }`; `uri` answers the dialog.
 * Returns the image records written, or undefined when cancelled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ImageSummary } from '../../../runtime/client';
import { displayName, formatSize } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs } from './imageArgs';

export interface LoadOptions {
  readonly uri?: vscode.Uri;
  readonly cancellation?: vscode.CancellationToken;
}

export async function loadImage(context: CommandContext, ...args: unknown[]): Promise<ImageSummary[] | undefined> {
  const options = optionsFromArgs<LoadOptions>(args);
  const client = context.connection.requireClient();
  const uri = options.uri ?? (await askForFile());
  if (!uri) return undefined;
  const name = path.basename(uri.path);

  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Loading {0}', name), cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const subscriptions = [token, options.cancellation]
        .filter((t): t is vscode.CancellationToken => t !== undefined)
        .map((t) => t.onCancellationRequested(() => abort.abort()));
      let images: ImageSummary[];
      try {
        const { chunks, size } = await readFile(uri);
        let sent = 0;
        let reported = 0;
        async function* counted(): AsyncGenerator<Uint8Array> {
          for await (const chunk of chunks) {
            sent += chunk.length;
            const percent = size ? (sent / size) * 100 : 0;
            progress.report({
              message: vscode.l10n.t('{0} of {1} sent', formatSize(sent), formatSize(size)),
              increment: percent - reported,
            });
            reported = percent;
            yield chunk;
          }
        }
        images = await client.images.load(counted(), { signal: abort.signal });
      } catch (e) {
        if (abort.signal.aborted) {
          context.log.info(`Load of ${uri.fsPath} cancelled`);
          return undefined;
        }
        throw e;
      } finally {
        for (const s of subscriptions) s.dispose();
      }
      const names = images.map((i) => displayName(i.name));
      context.log.info(`Loaded ${images.map((i) => i.name).join(', ')} from ${uri.fsPath}`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Loaded {0}', names.join(', ')));
      return images;
    },
  );
}

async function askForFile(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Load Image'),
    canSelectMany: false,
    filters: { [vscode.l10n.t('Image archives')]: ['tar', 'gz', 'tgz', 'zst'], [vscode.l10n.t('All files')]: ['*'] },
    openLabel: vscode.l10n.t('Load'),
  });
  return picked?.[0];
}

/** A local file streamed from disk; another file system's read whole through workspace.fs. */
async function readFile(uri: vscode.Uri): Promise<{ chunks: AsyncIterable<Uint8Array>; size: number }> {
  if (uri.scheme === 'file') {
    const { size } = await fs.promises.stat(uri.fsPath);
    return { chunks: fs.createReadStream(uri.fsPath, { highWaterMark: 1024 * 1024 }), size };
  }
  const data = await vscode.workspace.fs.readFile(uri);
  return {
    chunks: (async function* () {
      yield data;
    })(),
    size: data.length,
  };
}
