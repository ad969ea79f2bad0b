/**
 * Restart policies by name, as Docker names them, and `--restart` parsing:
 * the one list the CLI, the daemon's API checks and the extension's Run…
 * prompt all use.
 */
import { invalidArgument } from '../errdefs/errdefs';

export const RESTART_POLICY_NAMES = ['no', 'always', 'on-failure', 'unless-stopped'] as const;
export type RestartPolicyName = (typeof RESTART_POLICY_NAMES)[number];

export interface RestartPolicy {
  readonly name: RestartPolicyName;
  /** on-failure only: give up after this many restarts (0 = no limit). */
  readonly maximumRetryCount: number;
}

export function isRestartPolicyName(value: unknown): value is RestartPolicyName {
  return typeof value === 'string' && (RESTART_POLICY_NAMES as readonly string[]).includes(value);
}

const q = (s: string) => JSON.stringify(s);

/** `no` | `always` | `unless-stopped` | `on-failure[:N]` ('' = no), with the daemon's checks. */
export function parseRestartPolicy(value: string): RestartPolicy {
  if (value === '') return { name: 'no', maximumRetryCount: 0 };
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  const count = colon < 0 ? '' : value.slice(colon + 1);
  if (!isRestartPolicyName(name)) {
    throw invalidArgument(
      `invalid restart policy: unknown policy ${q(name)}; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`,
    );
  }
  let maximumRetryCount = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw invalidArgument(`invalid restart policy ${q(value)}: maximum retry count must be an integer`);
    maximumRetryCount = Number(count);
    if (maximumRetryCount < 0) throw invalidArgument(`invalid restart policy ${q(value)}: maximum retry count cannot be negative`);
    if (maximumRetryCount !== 0 && name !== 'on-failure') {
      throw invalidArgument(`invalid restart policy ${q(value)}: maximum retry count can only be used with 'on-failure'`);
    }
  }
  return { name, maximumRetryCount };
}
