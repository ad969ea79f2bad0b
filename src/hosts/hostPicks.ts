/**
 * The entries of Gantry: Connect to Host…, computed from plain data so they
 * can be tested without VS Code (connectToHost.ts turns them into
 * QuickPickItems):
 *
 *   [typed text]  "Connect to ssh://…" for what the user typed, first, when it
 *                 is a valid host and not already listed — or why it is not
 *   Local runtime this machine's daemon (under Remote-SSH: the workspace's machine)
 *   ── recent ──  the hosts this workspace connected to, most recent first
 *   ── ~/.ssh/config ──  the config's Host entries not already listed
 *
 * The current runtime is marked. A typed value also filters the other
 * entries (VS Code's own matching does that for label/description).
 */
import { describe } from '../../runtime/client';
import { LOCAL, parseHostChoice, type HostChoice } from './hostChoice';
import type { SshConfigHost } from './sshConfig';

export interface HostPickEntry {
  /** 'separator' rows only group; 'invalid' rows say why the typed text is not a host. */
  readonly kind: 'host' | 'separator' | 'invalid';
  readonly label: string;
  readonly description?: string;
  readonly detail?: string;
  /** A codicon id for the row. */
  readonly icon?: string;
  /** What picking it connects to ('host' rows). */
  readonly choice?: HostChoice;
  /** A remembered host the user may remove from the list. */
  readonly removable?: boolean;
  /** Made from the typed text (it matches that text by construction). */
  readonly typed?: boolean;
}

export interface HostPickInput {
  readonly current: HostChoice;
  /** Labels ("ssh://…") this workspace connected to, most recent first. */
  readonly recent: readonly string[];
  readonly sshHosts: readonly SshConfigHost[];
  /** How to name the config the hosts came from ("~/.ssh/config"). */
  readonly sshConfigName: string;
  /** What the user typed so far. */
  readonly typed: string;
  /** VS Code's remote name when the extension runs in a remote workspace (env.remoteName). */
  readonly remoteName?: string;
}

export function buildHostPicks(input: HostPickInput): HostPickEntry[] {
  const currentLabel = input.current.kind === 'ssh' ? input.current.label : undefined;
  const mark = (label: string | undefined) => (label !== undefined && label === currentLabel ? ' (current)' : '');
  const entries: HostPickEntry[] = [];
  const listed = new Set<string>();

  const local: HostPickEntry = {
    kind: 'host',
    label: 'Local runtime',
    description:
      (input.remoteName ? `the ${input.remoteName} workspace's machine` : 'this machine') +
      (input.current.kind === 'local' ? ' (current)' : ''),
    icon: 'vm',
    choice: LOCAL,
  };

  const recent: HostPickEntry[] = [];
  for (const label of input.recent) {
    const choice = tryChoice(label);
    if (!choice || choice.kind !== 'ssh' || listed.has(choice.label)) continue;
    listed.add(choice.label);
    recent.push({
      kind: 'host',
      label: choice.label,
      description: `recent${mark(choice.label)}`,
      icon: 'history',
      choice,
      removable: true,
    });
  }
  // The current host is listed even when it never connected (so it is not in recents yet).
  if (currentLabel && !listed.has(currentLabel) && input.current.kind === 'ssh') {
    listed.add(currentLabel);
    recent.unshift({ kind: 'host', label: currentLabel, description: 'current', icon: 'server', choice: input.current });
  }

  const configured: HostPickEntry[] = [];
  for (const host of input.sshHosts) {
    const choice = tryChoice(host.alias);
    if (!choice || choice.kind !== 'ssh' || listed.has(choice.label)) continue;
    listed.add(choice.label);
    const where =
      host.hostName || host.user || host.port
        ? `${host.user ? `${host.user}@` : ''}${host.hostName ?? host.alias}${host.port ? `:${host.port}` : ''}`
        : undefined;
    configured.push({
      kind: 'host',
      label: host.alias,
      description: `${where ?? ''}${mark(choice.label)}`.trim() || undefined,
      icon: 'server',
      choice,
    });
  }

  const typed = input.typed.trim();
  if (typed && !isListed(typed, listed, local)) {
    try {
      const choice = parseHostChoice(typed);
      if (choice.kind === 'ssh' && !listed.has(choice.label)) {
        entries.push({ kind: 'host', label: `Connect to ${choice.label}`, description: 'typed', icon: 'plug', choice, typed: true });
      }
    } catch (e) {
      entries.push({ kind: 'invalid', label: `Not a host: ${typed}`, detail: describe(e), icon: 'error', typed: true });
    }
  }
  entries.push(local);
  if (recent.length) entries.push({ kind: 'separator', label: 'recent' }, ...recent);
  if (configured.length) entries.push({ kind: 'separator', label: input.sshConfigName }, ...configured);
  return entries;
}

/** Whether the typed text names an entry already in the list (its label, or the local runtime). */
function isListed(typed: string, listed: Set<string>, local: HostPickEntry): boolean {
  if (typed.toLowerCase() === 'local' || typed === local.label) return true;
  const choice = tryChoice(typed);
  return choice?.kind === 'ssh' && listed.has(choice.label);
}

function tryChoice(spec: string): HostChoice | undefined {
  try {
    return parseHostChoice(spec);
  } catch {
    return undefined;
  }
}
