import * as vscode from 'vscode';
import { type VersionResponse } from '../../../runtime/client';
import type { CommandContext } from '../commandContext';

/** Shows the daemon's version and paths; returns them to programmatic callers (tests, other extensions). */
export async function showRuntimeInfo(context: CommandContext): Promise<VersionResponse> {
  const info = await context.connection.requireClient().system.version();
  const components = info.components.map((c) => `${c.name} ${c.path ? c.version : 'missing'}`).join(', ');
  context.log.info(
    `gantryd ${info.version} (API ${info.apiVersion}) pid ${info.pid}; root ${info.root}; state ${info.state}; ${components}`,
  );
  const missing = info.components.filter((c) => !c.path).map((c) => c.name);
  // A rootless daemon says so, with its network (docs/rootless.md): bridge networking needs slirp4netns.
  const mode = info.rootless ? ` (rootless, network ${info.rootlessNetwork || 'unknown'})` : '';
  const detail = `gantryd ${info.version} on ${info.os}/${info.arch}${mode} — ${components}`;
  if (missing.length) {
    void vscode.window.showWarningMessage(`${detail}. Containers cannot run without ${missing.join(' and ')}.`);
  } else {
    void vscode.window.showInformationMessage(detail);
  }
  return info;
}
