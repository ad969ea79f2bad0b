/**
 * What the user can connect Gantry to: this machine's daemon ("local") or a
 * host over SSH, named by its canonical label `ssh://[user@]host[:port]`
 * (formatSshTarget of what parseSshTarget read). The label is what is
 * stored per workspace and shown; it parses back to the same target.
 * No VS Code imports.
 */
import { formatSshTarget, invalidArgument, parseSshTarget, type SshTarget } from '../../runtime/client';

export type HostChoice = { readonly kind: 'local' } | { readonly kind: 'ssh'; readonly label: string; readonly target: SshTarget };

export const LOCAL: HostChoice = { kind: 'local' };

/** The word for the local runtime in arguments and storage. */
export const LOCAL_SPEC = 'local';

/**
 * "local", or anything parseSshTarget accepts: `ssh://user@host:port`,
 * `user@host[:port]`, an ssh_config alias. InvalidArgument with the reason otherwise.
 */
export function parseHostChoice(spec: string): HostChoice {
  const given = spec.trim();
  if (!given) throw invalidArgument('no host given (expected "local" or ssh://[user@]host[:port])');
  if (given.toLowerCase() === LOCAL_SPEC) return LOCAL;
  const target = parseSshTarget(given);
  return { kind: 'ssh', label: formatSshTarget(target), target };
}

/** What parseHostChoice reads back to the same choice. */
export function hostChoiceSpec(choice: HostChoice): string {
  return choice.kind === 'local' ? LOCAL_SPEC : choice.label;
}

/** "user@host:port" without the scheme: short enough for the status bar and the views' descriptions. */
export function shortHostLabel(label: string): string {
  return label.replace(/^ssh:\/\//, '');
}

export function sameChoice(a: HostChoice, b: HostChoice): boolean {
  return hostChoiceSpec(a) === hostChoiceSpec(b);
}
