/**
 * What the image commands act on. From the tree, VS Code passes the clicked
 * node and the selection; from the palette nothing, and the user picks from
 * a QuickPick; from code and tests, record names as strings.
 */
import * as vscode from 'vscode';
import { type ImageSummary } from '../../../runtime/client';
import { formatAgo, formatSize, shortId } from '../../../runtime/presentation';
import { imageLabel, isImageNode, isRepositoryNode } from '../../views/images/imageNodes';
import type { CommandContext } from '../commandContext';
import { pickTargets } from '../pickTargets';

/** An image a command acts on: its record name, and what to call it in messages. */
export interface ImageTarget {
  /** Normalised record name ("docker.io/library/busybox:latest" or "repo@sha256:…"). */
  readonly name: string;
  /** Familiar name ("busybox:latest"). */
  readonly label: string;
  readonly dangling: boolean;
}

export function targetOf(image: ImageSummary): ImageTarget {
  return { name: image.name, label: imageLabel(image), dangling: !image.tag };
}

/**
 * The images named by command arguments: the selection when the clicked node
 * is part of it (else the clicked node), repository nodes expanded to their
 * images, strings taken as record names or IDs. Empty when none was given.
 */
export function targetsFromArgs(node: unknown, nodes: unknown): ImageTarget[] {
  const selection = Array.isArray(nodes) && (node === undefined || nodes.includes(node)) ? nodes : [node];
  const targets: ImageTarget[] = [];
  for (const n of selection) {
    if (isImageNode(n)) targets.push(targetOf(n.image));
    else if (isRepositoryNode(n)) targets.push(...n.children.map((c) => targetOf(c.image)));
    else if (typeof n === 'string' && n.trim()) targets.push({ name: n.trim(), label: n.trim(), dangling: n.includes('@') });
  }
  const seen = new Set<string>();
  return targets.filter((t) => !seen.has(t.name) && seen.add(t.name));
}

/** The options object among trailing arguments, if any. */
export function optionsFromArgs<T extends object>(args: readonly unknown[]): Partial<T> {
  const found = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && !isImageNode(a) && !isRepositoryNode(a));
  return found ?? {};
}

export interface PickOptions {
  readonly placeHolder: string;
  readonly canPickMany?: boolean;
  /** Which images are offered (default: all). */
  readonly include?: (image: ImageSummary) => boolean;
}

/** Quick-pick entries for `images`, by name: label, size and age, short ID. */
export function imagePickItems(images: readonly ImageSummary[]): Array<vscode.QuickPickItem & { readonly image: ImageSummary }> {
  return [...images]
    .sort((a, b) => imageLabel(a).localeCompare(imageLabel(b)))
    .map((image) => ({
      label: imageLabel(image),
      description: `${formatSize(image.size)} · ${formatAgo(image.created || image.recordedAt)}`,
      detail: shortId(image.id),
      image,
    }));
}

/** Asks for images with a QuickPick of the view's current list; empty when the user cancels. */
export async function pickImages(context: CommandContext, options: PickOptions): Promise<ImageTarget[]> {
  const images = (await context.views.images.images()).filter(options.include ?? (() => true));
  if (images.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There are no images to choose from.'));
    return [];
  }
  return pickTargets(imagePickItems(images), options, (p) => targetOf(p.image));
}

/** The targets from the arguments, or else the user's pick. */
export async function resolveTargets(context: CommandContext, node: unknown, nodes: unknown, pick: PickOptions): Promise<ImageTarget[]> {
  const given = targetsFromArgs(node, nodes);
  return given.length ? given : pickImages(context, pick);
}
