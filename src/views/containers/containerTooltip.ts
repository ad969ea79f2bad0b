/**
 * The Markdown tooltip of a container item, from one inspect call made when
 * the user hovers: identity, image, command, status, exit code, restart
 * policy, mounts, network, addresses and published ports, times, and the health check with its last probe's output.
 * Relative times are rounded as the item's description is ("Up 5 minutes",
 * "Less than a minute ago"), so the tooltip stays true for as long as the
 * item does: the provider re-renders the item, and VS Code resolves its
 * tooltip again, when they change. Exact times are given as such.
 */
import * as vscode from 'vscode';
import { type HealthProbe, type InspectContainerResponse } from '../../../runtime/client';
import { mdCode, mdEscape } from '../markdown';
import { healthName, portLines, shortId } from '../../../runtime/presentation';
import { coarseStatus, containerState, imageDisplay, roughlyAgo } from './containerNodes';
import { containerDisplayName } from './podNodes';

/** A probe's output is whatever the check printed: enough to see why it failed, not a page. */
const MAX_PROBE_OUTPUT = 600;

export function containerTooltip(details: InspectContainerResponse, now: number = Date.now()): vscode.MarkdownString {
  const c = details.container!;
  const state = containerState(c.status);
  const rows: [string, string][] = [
    [vscode.l10n.t('ID'), mdCode(shortId(c.id))],
    [vscode.l10n.t('Image'), `${mdCode(imageDisplay(c))}${c.imageId ? ` (${mdCode(shortId(c.imageId))})` : ''}`],
  ];
  if (c.command.length) rows.push([vscode.l10n.t('Command'), mdCode(JSON.stringify(c.command))]);
  rows.push([vscode.l10n.t('Status'), mdEscape(coarseStatus(c, now))]);
  if (state === 'exited' || state === 'restarting' || state === 'dead') {
    const why = c.oomKilled ? vscode.l10n.t(' (OOM killed)') : c.stoppedByUser ? vscode.l10n.t(' (stopped by the user)') : '';
    rows.push([vscode.l10n.t('Exit code'), mdEscape(`${c.exitCode}${why}`)]);
  }
  if (c.error) rows.push([vscode.l10n.t('Error'), mdEscape(c.error)]);
  if (c.cri) {
    // A pod's container: the kubelet restarts it (a new container, the next attempt), never a restart policy.
    rows.push([vscode.l10n.t('Pod'), `${mdEscape(`${c.cri.podNamespace}/${c.cri.podName}`)} (UID ${mdCode(c.cri.podUid)})`]);
    rows.push([vscode.l10n.t('Attempt'), mdEscape(vscode.l10n.t('{0} (restarted by the kubelet)', c.cri.attempt))]);
  } else {
    const policy = c.restartPolicy?.name || 'no';
    const retries = c.restartPolicy?.maximumRetryCount ? `:${c.restartPolicy.maximumRetryCount}` : '';
    rows.push([vscode.l10n.t('Restart policy'), mdEscape(`${policy}${retries}${c.restartCount ? `, restarted ${c.restartCount}×` : ''}`)]);
  }
  for (const m of c.mounts)
    rows.push([vscode.l10n.t('Mount'), `${mdCode(m.source)} → ${mdCode(m.destination)}${m.readOnly ? ' (ro)' : ''}`]);
  if (c.network) rows.push([vscode.l10n.t('Network'), mdEscape(c.network)]);
  for (const e of c.networks) {
    const address = e.ipAddress ? `${e.ipAddress}${e.ipPrefixLen ? `/${e.ipPrefixLen}` : ''}` : '';
    if (address) rows.push([vscode.l10n.t('IP on {0}', e.network), mdCode(address)]);
  }
  if (c.ports.length) rows.push([vscode.l10n.t('Ports'), portLines(c.ports).map(mdCode).join(', ')]);
  rows.push([vscode.l10n.t('Created'), when(c.createdAt, now)]);
  if (c.startedAt) rows.push([vscode.l10n.t('Started'), when(c.startedAt, now)]);
  if (c.finishedAt && state !== 'running' && state !== 'paused') rows.push([vscode.l10n.t('Finished'), when(c.finishedAt, now)]);

  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${mdEscape(containerDisplayName(c))}**\n\n`);
  md.appendMarkdown('| | |\n|:--|:--|\n');
  for (const [key, value] of rows) md.appendMarkdown(`| ${mdEscape(key)} | ${value} |\n`);

  const health = healthName(details.health?.status ?? c.health);
  if (health !== 'none') {
    const streak = details.health?.failingStreak ? vscode.l10n.t(', {0} failing in a row', details.health.failingStreak) : '';
    md.appendMarkdown(`\n**${mdEscape(vscode.l10n.t('Health'))}:** ${mdEscape(health + streak)}\n`);
    const last = details.health?.log.at(-1);
    if (last) appendProbe(md, last);
  }
  return md;
}

function appendProbe(md: vscode.MarkdownString, probe: HealthProbe): void {
  // An exact time: probes run every interval without an event, so "N seconds ago" would go stale.
  const at = probe.end ?? probe.start;
  md.appendMarkdown(`\n${mdEscape(vscode.l10n.t('Last probe: exit {0}, at {1}', probe.exitCode, at ? at.toISOString() : 'N/A'))}\n`);
  let output = probe.output.trimEnd();
  if (!output) return;
  if (output.length > MAX_PROBE_OUTPUT) output = `${output.slice(0, MAX_PROBE_OUTPUT)}…`;
  // A fence longer than any run of backticks in the output, so the output cannot close it.
  const longest = Math.max(2, ...[...output.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  md.appendMarkdown(`\n${fence}text\n${output}\n${fence}\n`);
}

function when(at: Date | undefined, now: number): string {
  return at ? mdEscape(`${at.toISOString()} (${roughlyAgo(at, now)})`) : 'N/A';
}
