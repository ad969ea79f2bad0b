/**
 * The first step of Run… without an image: a QuickPick of the local images
 * that also takes a typed reference. When the typed text is a valid
 * reference that names no local image, an item "Pull and run <reference>"
 * is offered (Docker's `run --pull missing`); accepting it pulls the image
 * with Pull Image…'s progress notification (cancellable), and Run… goes on
 * with the pulled image. Escape, or a cancelled pull, cancels the run.
 */
import * as vscode from 'vscode';
import { type ImageSummary } from '../../../runtime/client';
import { imageReference } from '../../../runtime/presentation';
import { imagePickItems, targetOf, type ImageTarget } from '../images/imageArgs';
import { pullImage } from '../images/pullImage';
import type { CommandContext } from '../commandContext';
import { typedQuickPick } from '../typedQuickPick';

type Item = vscode.QuickPickItem & ({ readonly image: ImageSummary } | { readonly pull: string });

/** The image to run, pulled first when the user chose "Pull and run"; undefined when cancelled. */
export async function pickImageToRun(context: CommandContext): Promise<ImageTarget | undefined> {
  const images = await context.views.images.images();
  const chosen = await pick(images);
  if (!chosen) return undefined;
  if ('image' in chosen) return targetOf(chosen.image);
  const pulled = await pullImage(context, chosen.pull);
  return pulled && targetOf(pulled);
}

function pick(images: readonly ImageSummary[]): Promise<Item | undefined> {
  const imageItems: Item[] = imagePickItems(images);
  const names = new Set(images.map((i) => i.name));
  const quickPick = vscode.window.createQuickPick<Item>();
  quickPick.title = vscode.l10n.t('Run a Container');
  quickPick.placeholder = vscode.l10n.t('Select the image to run, or type a reference to pull and run (e.g. busybox:latest)');
  quickPick.matchOnDetail = true;
  quickPick.items = imageItems;

  return typedQuickPick(
    quickPick,
    (text) => {
      const item = pullItem(text, names);
      // Last: while typing part of a local image's name, Enter still picks that image.
      return item ? [...imageItems, item] : imageItems;
    },
    (selected, text) => selected ?? pullItem(text, names),
  );
}

/** "Pull and run <reference>" for typed text that is a reference to no local image; else undefined. */
export function pullItem(text: string, localNames: ReadonlySet<string>): Item | undefined {
  if (!text) return undefined;
  let name: string;
  let shown: string;
  try {
    ({ name, shown } = imageReference(text));
  } catch {
    return undefined;
  }
  if (localNames.has(name)) return undefined;
  return {
    label: `$(cloud-download) ${vscode.l10n.t('Pull and run {0}', shown)}`,
    description: vscode.l10n.t('not pulled yet'),
    alwaysShow: true,
    pull: text,
  };
}
