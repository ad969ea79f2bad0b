/**
 * Gantry: Push Image… Uploads a tagged image to the registry its name
 * points at (`gantry push`, the one push flow: runtime/client/flows/push.ts)
 * with this machine's registry credentials, in a cancellable notification
 * that sums the per-blob progress (pushProgress.ts). Cancelling aborts the
 * call and the daemon stops the upload.
 *
 * When the registry wants credentials it does not have (or refuses the
 * ones given), the error offers Log In…, which runs Log In to Registry… for
 * that registry.
 *
 * Arguments: an image node or record name (without one, a QuickPick of
 * tagged images), then optionally `{ cancellation, onProgress }`. Returns the
 * pushed tags, or undefined when cancelled or refused.
 */
import * as vscode from 'vscode';
import { describe, kindOf, type PushedImage, pushImage as pushFlow } from '../../../runtime/client';
import { imageReference, throttle } from '../../../runtime/presentation';
import type { CommandContext } from '../commandContext';
import { optionsFromArgs, resolveTargets } from './imageArgs';
import { PushProgressTracker, type PushProgressSnapshot } from './pushProgress';

export interface PushOptions {
  readonly cancellation?: vscode.CancellationToken;
  readonly onProgress?: (progress: PushProgressSnapshot) => void;
}

export const PUSH_COMMAND = 'gantry.images.push';
const REPORT_INTERVAL_MS = 100;

export async function pushImage(context: CommandContext, node?: unknown, ...rest: unknown[]): Promise<PushedImage[] | undefined> {
  const options = optionsFromArgs<PushOptions>(rest);
  const client = context.connection.requireClient();
  const [target] = await resolveTargets(context, node, undefined, {
    placeHolder: vscode.l10n.t('Select the image to push'),
    include: (image) => Boolean(image.tag),
  });
  if (!target) return undefined;
  const ref = imageReference(target.name);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Pushing {0}', ref.shown), cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const subscriptions = [token, options.cancellation]
        .filter((t): t is vscode.CancellationToken => t !== undefined)
        .map((t) => t.onCancellationRequested(() => abort.abort()));
      const tracker = new PushProgressTracker();
      const reporter = throttle(REPORT_INTERVAL_MS, () => progress.report({ message: tracker.message(), increment: tracker.advance() }));
      let pushed: PushedImage[];
      try {
        pushed = await pushFlow(
          client,
          { reference: ref.name },
          {
            onStarted: (s) => progress.report({ message: vscode.l10n.t('pushing to {0}', s.name) }),
            onBlob: (blob) => {
              tracker.update(blob);
              options.onProgress?.(tracker.snapshot());
              reporter.run(false);
            },
          },
          abort.signal,
        );
        reporter.run(true);
      } catch (e) {
        const kind = kindOf(e);
        if (!abort.signal.aborted && (kind === 'Unauthenticated' || kind === 'PermissionDenied')) {
          offerLogin(context, ref.registry, describe(e));
          return undefined;
        }
        throw e;
      } finally {
        reporter.cancel();
        for (const s of subscriptions) s.dispose();
      }
      if (abort.signal.aborted) {
        context.log.info(`Push of ${ref.name} cancelled`);
        return undefined;
      }
      for (const p of pushed) context.log.info(`Pushed ${p.name} (${p.digest})`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Pushed {0}', ref.shown));
      return pushed;
    },
  );
}

/**
 * The refusal as the one failure notification of the command, with Log In…
 * (the registration table's wrapper would show it without that action).
 */
function offerLogin(context: CommandContext, registry: string, detail: string): void {
  const message = vscode.l10n.t('Could not push to {0}: the registry wants credentials ({1}).', registry, detail);
  context.log.error(`${PUSH_COMMAND} failed: ${message}`);
  context.failures.fire({ command: PUSH_COMMAND, message });
  const logIn = vscode.l10n.t('Log In…');
  void vscode.window.showErrorMessage(message, logIn).then((chosen) => {
    if (chosen === logIn) void vscode.commands.executeCommand('gantry.registries.login', registry);
  });
}
