/**
 * Gantry: Pull Image… Asks for a reference (a QuickPick of the last ten
 * pulled, plus what the user types), then pulls it with the user's registry
 * credentials (~/.docker/config.json, as `gantry pull` does) in a cancellable
 * progress notification. Cancelling aborts the gRPC call, and the daemon
 * cancels the pull; blobs already verified stay for the next attempt.
 *
 * Arguments (all optional): a reference string or an image node (pull its
 * name again), then `{ platform, cancellation, onProgress }`. Returns the
 * pulled image record, or undefined when cancelled.
 */
import * as vscode from 'vscode';
import type { ImageSummary } from '../../../runtime/api/gen/gantry/v1/images';
import { toWireAuth } from '../../../runtime/api/client';
import { getCredentials } from '../../../runtime/distribution/credentials';
import { familiarString, parseReference } from '../../../runtime/distribution/reference';
import { isImageNode } from '../../views/images/imageNodes';
import type { CommandContext } from '../registerCommands';
import { optionsFromArgs } from './imageArgs';
import { PullProgressTracker, type PullProgressSnapshot } from './pullProgress';
import { pickReference, rememberReference } from './recentReferences';

export interface PullOptions {
  /** "os/arch[/variant]"; default: the daemon's platform. */
  readonly platform?: string;
  /** Cancels the pull as the notification's Cancel button does. */
  readonly cancellation?: vscode.CancellationToken;
  /** Called with the summed progress after every update from the daemon. */
  readonly onProgress?: (progress: PullProgressSnapshot) => void;
}

const REPORT_INTERVAL_MS = 100;

export async function pullImage(context: CommandContext, arg?: unknown, ...rest: unknown[]): Promise<ImageSummary | undefined> {
  const options = optionsFromArgs<PullOptions>(typeof arg === 'object' && !isImageNode(arg) ? [arg, ...rest] : rest);
  const client = context.connection.requireClient();
  const input = typeof arg === 'string' ? arg : isImageNode(arg) ? arg.image.name : await pickReference(context);
  if (!input?.trim()) return undefined;
  const ref = parseReference(input.trim());
  const shown = familiarString(ref);
  await rememberReference(context, input.trim());
  const auth = await getCredentials(ref.domain);

  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Pulling {0}', shown), cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const subscriptions = [token, options.cancellation]
        .filter((t): t is vscode.CancellationToken => t !== undefined)
        .map((t) => t.onCancellationRequested(() => abort.abort()));
      if (token.isCancellationRequested || options.cancellation?.isCancellationRequested) {
        // Cancelled before the call started: ImagesApi.pull does not look at a signal already aborted.
        for (const s of subscriptions) s.dispose();
        context.log.info(`Pull of ${ref.toString()} cancelled before it started`);
        return undefined;
      }
      const tracker = new PullProgressTracker();
      let image: ImageSummary | undefined;
      let lastReport = 0;
      const report = (force: boolean) => {
        const now = Date.now();
        if (!force && now - lastReport < REPORT_INTERVAL_MS) return;
        lastReport = now;
        progress.report({ message: tracker.message(), increment: tracker.advance() });
      };
      try {
        const request = { reference: ref.toString(), platform: options.platform ?? '', auth: toWireAuth(auth) };
        for await (const message of client.images.pull(request, abort.signal)) {
          const kind = message.kind;
          if (kind?.$case === 'resolved') {
            progress.report({ message: vscode.l10n.t('resolved {0}', kind.value.target?.digest ?? '') });
          } else if (kind?.$case === 'blob') {
            tracker.update(kind.value);
            options.onProgress?.(tracker.snapshot());
            report(false);
          } else if (kind?.$case === 'image') {
            image = kind.value;
          }
        }
        report(true);
      } finally {
        for (const s of subscriptions) s.dispose();
      }
      // The record arrived before the cancel did: the image is there, so say so.
      if (image) {
        context.log.info(`Pulled ${image.name} (${image.target?.digest})`);
        void vscode.window.showInformationMessage(vscode.l10n.t('Pulled {0}', shown));
        return image;
      }
      if (abort.signal.aborted) {
        context.log.info(`Pull of ${ref.toString()} cancelled`);
        return undefined;
      }
      throw new Error(`the daemon ended the pull of ${shown} without a result`);
    },
  );
}
