/**
 * The prompts of Run…, in order: name, command, environment, restart
 * policy, detached or attached. Each validates as the user types (with
 * runInput.ts), and Escape at any of them cancels the whole run (undefined).
 */
import * as vscode from 'vscode';
import { describe } from '../../../runtime/client';
import { RESTART_POLICY_NAMES, type RestartPolicyName } from '../../../runtime/options';
import { nameProblem, parseEnv, splitArgs } from './runInput';

export interface RunChoices {
  /** '' = a generated name. */
  readonly name: string;
  /** [] = the image's command. */
  readonly command: string[];
  readonly env: string[];
  readonly restartPolicy: RestartPolicyName;
  readonly attach: boolean;
}

const STEPS = 5;

/** Asks for everything Run… needs; `taken` holds the names already in use. */
export async function promptRunChoices(imageLabel: string, taken: ReadonlySet<string>): Promise<RunChoices | undefined> {
  const title = vscode.l10n.t('Run {0}', imageLabel);
  const name = await vscode.window.showInputBox({
    title: `${title} (1/${STEPS})`,
    prompt: vscode.l10n.t('Container name (leave empty for a generated one)'),
    validateInput: (v) => nameProblem(v.trim()) ?? (taken.has(v.trim()) ? vscode.l10n.t('{0} is already in use', v.trim()) : undefined),
  });
  if (name === undefined) return undefined;

  const commandText = await vscode.window.showInputBox({
    title: `${title} (2/${STEPS})`,
    prompt: vscode.l10n.t(
      "Command and arguments, split as a shell splits words (quotes work; nothing is expanded). Empty: the image's command",
    ),
    placeHolder: 'sh -c "echo hello; sleep 60"',
    validateInput: (v) => problem(() => splitArgs(v)),
  });
  if (commandText === undefined) return undefined;

  const envText = await vscode.window.showInputBox({
    title: `${title} (3/${STEPS})`,
    prompt: vscode.l10n.t('Environment: KEY=VALUE, separated by spaces or commas (quote values that contain them). Empty: none'),
    placeHolder: 'MODE=dev, GREETING="hello world"',
    validateInput: (v) => problem(() => parseEnv(v)),
  });
  if (envText === undefined) return undefined;

  const policy = await vscode.window.showQuickPick(
    RESTART_POLICY_NAMES.map((p) => ({ label: p, description: policyDescription(p) })),
    { title: `${title} (4/${STEPS})`, placeHolder: vscode.l10n.t('Restart policy') },
  );
  if (!policy) return undefined;

  const detached = {
    label: vscode.l10n.t('Run detached'),
    description: vscode.l10n.t('in the background; logs and shell from the Containers view'),
    attach: false,
  };
  const attached = {
    label: vscode.l10n.t('Run attached in a terminal'),
    description: vscode.l10n.t('with a TTY: the terminal is its console'),
    attach: true,
  };
  const mode = await vscode.window.showQuickPick([detached, attached], { title: `${title} (5/${STEPS})` });
  if (!mode) return undefined;

  return {
    name: name.trim(),
    command: splitArgs(commandText),
    env: parseEnv(envText),
    restartPolicy: policy.label,
    attach: mode.attach,
  };
}

function problem(check: () => unknown): string | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    return describe(e);
  }
}

function policyDescription(policy: RestartPolicyName): string {
  switch (policy) {
    case 'no':
      return vscode.l10n.t('never restart (default)');
    case 'always':
      return vscode.l10n.t('restart whenever it stops, unless stopped by you');
    case 'on-failure':
      return vscode.l10n.t('restart when it exits non-zero');
    case 'unless-stopped':
      return vscode.l10n.t('as always, and stays stopped across daemon restarts once you stop it');
  }
}
