/**
 * Gantry: Pull Image… Asks for a reference (a QuickPick of the last ten
 * pulled, plus what the user types), then pulls it with the user's registry
 * credentials (~/.docker/config.json, as `gantry pull` does) in a cancellable
 * progress notification. Cancelling aborts the gRPC call, and the daemon
 * cancels the pull; blobs already verified stay for the next attempt.
 *
 * Arguments (all optional): a reference string, then `{ platform,
 * cancellation, onProgress }`. A tree node is not a reference: VS Code passes
 * the focused item to the view's title button, which must still ask (an
 * image's own Pull is gantry.images.pullAgain). Only a pull that succeeded is
 * remembered as a recent reference. Returns the pulled image record, or
 * undefined when cancelled.
 */
import * as vscode from 'vscode';
import {
  describe,
  GantryError,
  type ImageSummary,
  kindOf,
  type Platform,
  pullImage as pullFlow,
  type RegistryAuth,
  registryAuthFor,
} from '../../../runtime/client';
import { imageReference, throttle, type ImageReference } from '../../../runtime/presentation';
import { platformString } from '../../views/images/imageTooltip';
import type { CommandContext } from '../commandContext';
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
  /** Replaces the platform QuickPick of a multi-platform image (tests); resolve undefined to cancel. */
  readonly pickPlatform?: PlatformPicker;
}

export type PlatformPicker = (items: readonly PlatformItem[]) => Thenable<PlatformItem | undefined>;

export interface PlatformItem extends vscode.QuickPickItem {
  /** "os/arch[/variant]" as `--platform` takes it. */
  readonly platform: string;
}

const REPORT_INTERVAL_MS = 100;

export async function pullImage(context: CommandContext, arg?: unknown, ...rest: unknown[]): Promise<ImageSummary | undefined> {
  // Nodes (and the selection array) are no options: optionsFromArgs skips them.
  const options = optionsFromArgs<PullOptions>([arg, ...rest]);
  const client = context.connection.requireClient();
  const input = typeof arg === 'string' ? arg : await pickReference(context);
  if (!input?.trim()) return undefined;
  const ref = imageReference(input.trim());
  const shown = ref.shown;
  const auth = await registryAuthFor(ref.registry);
  const platform = options.platform ?? (await choosePlatform(context, ref.name, auth, options.pickPlatform));
  if (platform === null) return undefined; // the user dismissed the platform pick

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
        context.log.info(`Pull of ${ref.name} cancelled before it started`);
        return undefined;
      }
      const tracker = new PullProgressTracker();
      let image: ImageSummary | undefined;
      let resolved = false;
      const reporter = throttle(REPORT_INTERVAL_MS, () => progress.report({ message: tracker.message(), increment: tracker.advance() }));
      const report = (force: boolean) => reporter.run(force);
      try {
        const outcome = await pullFlow(
          client,
          { reference: ref.name, platform: platform ?? '', auth },
          {
            onResolved: (resolvedTo) => {
              resolved = true;
              progress.report({ message: vscode.l10n.t('resolved {0}', resolvedTo.target?.digest ?? '') });
            },
            onBlob: (blob) => {
              tracker.update(blob);
              options.onProgress?.(tracker.snapshot());
              report(false);
            },
          },
          abort.signal,
        );
        image = outcome.image;
        report(true);
      } catch (e) {
        throw resolved ? e : resolveFailure(context, ref, e);
      } finally {
        reporter.cancel();
        for (const s of subscriptions) s.dispose();
      }
      // The record arrived before the cancel did: the image is there, so say so.
      if (image) {
        context.log.info(`Pulled ${image.name} (${image.target?.digest})`);
        await rememberReference(context, input.trim());
        void vscode.window.showInformationMessage(vscode.l10n.t('Pulled {0}', shown));
        return image;
      }
      if (abort.signal.aborted) {
        context.log.info(`Pull of ${ref.name} cancelled`);
        return undefined;
      }
      throw new Error(`the daemon ended the pull of ${shown} without a result`);
    },
  );
}

/**
 * The registry's "manifest unknown" / "name unknown" (NotFound before the
 * reference resolved) in the user's terms: which registry lacks what. The
 * daemon's own words go to the log.
 */
function resolveFailure(context: CommandContext, ref: ImageReference, e: unknown): unknown {
  if (kindOf(e) !== 'NotFound') return e;
  context.log.info(`Pull of ${ref.name}: ${describe(e)}`);
  const message = ref.digest
    ? vscode.l10n.t('Could not pull {0}: the digest or the repository was not found on registry {1}.', ref.shown, ref.registry)
    : vscode.l10n.t('Could not pull {0}: the tag or the repository was not found on registry {1}.', ref.shown, ref.registry);
  return new GantryError('NotFound', message, { cause: e });
}

/**
 * For an index (manifest list) with several platforms, asks which one to
 * pull, the daemon's default first. undefined = let the daemon choose (a
 * single-platform image, or the registry could not be asked: the pull then
 * reports the problem); null = the user dismissed the pick.
 */
async function choosePlatform(
  context: CommandContext,
  reference: string,
  auth: RegistryAuth | undefined,
  pick: PlatformPicker = (items) =>
    vscode.window.showQuickPick(items, { title: vscode.l10n.t('Platform to pull'), placeHolder: reference }),
): Promise<string | undefined | null> {
  let offered;
  try {
    offered = await context.connection.requireClient().images.platforms(reference, auth);
  } catch (e) {
    context.log.debug(`Could not list the platforms of ${reference}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (offered.platforms.length < 2) return undefined;
  const items = platformItems(offered.platforms, offered.defaultPlatform);
  const chosen = await pick(items);
  return chosen ? chosen.platform : null;
}

/** The QuickPick items, the daemon's default first and marked. */
export function platformItems(platforms: readonly Platform[], defaultPlatform: string): PlatformItem[] {
  const items = platforms.map((p) => {
    const platform = platformString(p);
    return { label: platform, platform, description: platform === defaultPlatform ? vscode.l10n.t('this host') : undefined };
  });
  return [...items.filter((i) => i.platform === defaultPlatform), ...items.filter((i) => i.platform !== defaultPlatform)];
}
