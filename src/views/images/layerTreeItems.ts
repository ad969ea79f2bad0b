/**
 * Tree items of the layer explorer (layerNodes.ts) and the decorations of
 * its changes: each change carries a `gantry-layer-change:` resourceUri
 * whose query is its letter, so `LayerChangeDecorations` badges and colours
 * it as the SCM views do (A added, C changed, D deleted) and the file icon
 * theme still picks an icon by name. A file that exists after the layer
 * opens read-only from the layer's tree (`gantry-files://layer-…`).
 *
 * contextValue: `imageLayer`, `layerChangeFolder`, `layerChangeFile`,
 * `layerChangeDeleted`.
 */
import * as vscode from 'vscode';
import { createdByLine, createdByShort, formatAgo, formatSize } from '../../../runtime/presentation';
import { layerFileUri } from '../../files/containerFileUris';
import { mdCode as code, mdEscape as escape } from '../markdown';
import type { ChangeLetter, ImageLayerNode, LayerChangeNode } from './layerNodes';

export const LAYER_CHANGE_SCHEME = 'gantry-layer-change';

export function layerTreeItem(node: ImageLayerNode): vscode.TreeItem {
  const l = node.layer;
  const item = new vscode.TreeItem(`#${l.index + 1} ${formatSize(l.size)}`, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `layer:${node.imageName}:${l.index}`;
  item.contextValue = 'imageLayer';
  item.iconPath = new vscode.ThemeIcon('layers');
  item.description = createdByShort(l.createdBy);
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escape(vscode.l10n.t('Layer {0} of {1}', l.index + 1, node.imageName))}**\n\n`);
  md.appendMarkdown('| | |\n|:--|:--|\n');
  const rows: [string, string][] = [
    [vscode.l10n.t('Digest'), code(l.digest)],
    [vscode.l10n.t('Diff ID'), code(l.diffId)],
    [vscode.l10n.t('Size'), escape(`${formatSize(l.size)} (${formatSize(l.compressedSize)} compressed)`)],
    [vscode.l10n.t('Created'), l.created ? escape(`${l.created} (${formatAgo(l.created)})`) : 'N/A'],
  ];
  if (l.comment) rows.push([vscode.l10n.t('Comment'), escape(l.comment)]);
  for (const [key, value] of rows) md.appendMarkdown(`| ${escape(key)} | ${value} |\n`);
  if (l.createdBy) md.appendCodeblock(createdByLine(l.createdBy), 'shell');
  item.tooltip = md;
  return item;
}

const WORDS: Record<ChangeLetter, string> = { A: 'added', C: 'changed', D: 'deleted' };

export function layerChangeItem(node: LayerChangeNode): vscode.TreeItem {
  const item = new vscode.TreeItem(
    node.name,
    node.folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `layerChange:${node.imageName}:${node.index}:${node.path}`;
  item.resourceUri = vscode.Uri.from({ scheme: LAYER_CHANGE_SCHEME, path: node.path, query: node.change ?? '' });
  item.iconPath = node.folder ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
  const deleted = node.change === 'D';
  item.contextValue = deleted ? 'layerChangeDeleted' : node.folder ? 'layerChangeFolder' : 'layerChangeFile';
  if (node.change) {
    const word = vscode.l10n.t(WORDS[node.change]);
    item.description = deleted || node.folder ? word : `${word} · ${formatSize(node.size)}`;
    item.tooltip = `${node.path} (${word})`;
  } else item.tooltip = node.path;
  if (!node.folder && !deleted) {
    item.command = {
      command: 'vscode.open',
      title: vscode.l10n.t('Open'),
      arguments: [layerFileUri(node.imageId, node.index, node.path), { preview: true }],
    };
  }
  return item;
}

const COLORS: Record<ChangeLetter, string> = {
  A: 'gitDecoration.addedResourceForeground',
  C: 'gitDecoration.modifiedResourceForeground',
  D: 'gitDecoration.deletedResourceForeground',
};

/** Badges and colours for the layer explorer's changes. */
export class LayerChangeDecorations implements vscode.FileDecorationProvider {
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== LAYER_CHANGE_SCHEME) return undefined;
    const letter = uri.query as ChangeLetter;
    if (!(letter in COLORS)) return undefined;
    return new vscode.FileDecoration(letter, vscode.l10n.t(WORDS[letter]), new vscode.ThemeColor(COLORS[letter]));
  }
}
