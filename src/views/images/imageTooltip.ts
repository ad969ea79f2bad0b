/** The Markdown tooltip of an image item, from one inspect call made when the user hovers. */
import * as vscode from 'vscode';
import { type InspectImageResponse, type Platform } from '../../../runtime/client';
import { createdByShort, displayName, formatAgo, formatSize, shortId } from '../../../runtime/presentation';

const HISTORY_ROWS = 12;
import { mdCode as code, mdEscape as escape } from '../markdown';
import { imageLabel } from './imageNodes';

export function imageTooltip(details: InspectImageResponse): vscode.MarkdownString {
  const image = details.image!;
  const config = details.config;
  const rows: [string, string][] = [
    [vscode.l10n.t('ID'), code(shortId(image.id))],
    // Shortened as Docker shortens IDs: a full digest would widen the hover past the screen (Inspect has it).
    [vscode.l10n.t('Digest'), code(image.target ? `sha256:${shortId(image.target.digest)}…` : '')],
    [vscode.l10n.t('Platform'), escape(platformString(image.platform))],
    [vscode.l10n.t('Created'), image.created ? escape(`${image.created} (${formatAgo(image.created)})`) : 'N/A'],
    [vscode.l10n.t('Size'), escape(formatSize(image.size))],
  ];
  if (config?.entrypoint.length) rows.push([vscode.l10n.t('Entrypoint'), code(JSON.stringify(config.entrypoint))]);
  if (config?.cmd.length) rows.push([vscode.l10n.t('Command'), code(JSON.stringify(config.cmd))]);
  if (config?.exposedPorts.length) rows.push([vscode.l10n.t('Exposed ports'), config.exposedPorts.map(code).join(', ')]);
  const others = details.names.filter((n) => n !== image.name);
  if (others.length) rows.push([vscode.l10n.t('Also named'), others.map((n) => code(displayName(n))).join(', ')]);

  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${escape(imageLabel(image))}**\n\n`);
  md.appendMarkdown('| | |\n|:--|:--|\n');
  for (const [key, value] of rows) md.appendMarkdown(`| ${escape(key)} | ${value} |\n`);
  // The image's history, newest first, as `gantry history` lists it (docs/layers.md).
  const history = [...details.history].reverse();
  if (history.length) {
    md.appendMarkdown(`\n**${escape(vscode.l10n.t('History'))}**\n\n`);
    for (const h of history.slice(0, HISTORY_ROWS)) {
      const when = h.created ? ` · ${escape(formatAgo(h.created))}` : '';
      md.appendMarkdown(
        `- ${code(createdByShort(h.createdBy) || '—')}${h.emptyLayer ? '' : ` ${escape(vscode.l10n.t('(layer)'))}`}${when}\n`,
      );
    }
    if (history.length > HISTORY_ROWS) md.appendMarkdown(`- ${escape(vscode.l10n.t('… {0} more', history.length - HISTORY_ROWS))}\n`);
  }
  return md;
}

export function platformString(platform: Platform | undefined): string {
  if (!platform?.os) return 'N/A';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
