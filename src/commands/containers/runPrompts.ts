/**
 * The prompts of Run…, in order: name, command, environment, ports to
 * publish, network, restart policy, detached or attached. Each validates as the user types (with
 * runInput.ts), and Escape at any of them cancels the whole run (undefined).
 */
import * as vscode from 'vscode';
import { describe } from '../../../runtime/client';
import { RESTART_POLICY_NAMES, type RestartPolicyName } from '../../../runtime/options';
import { nameProblem, parseEnv, parsePorts, splitArgs } from './runInput';

export interface RunChoices {
  /** '' = a generated name. */
  readonly name: string;
  /** [] = the image's command. */
  readonly command: string[];
  readonly env: string[];
  /** `-p` values; [] publishes nothing. */
  readonly publish: string[];
  /** A network's name, "none" or "host"; '' = the default network. */
  readonly network: string;
  readonly restartPolicy: RestartPolicyName;
  readonly attach: boolean;
}

const STEPS = 7;

/** A network Run… offers: its name and what the pick shows beside it. */
export interface NetworkChoice {
  readonly name: string;
  readonly description: string;
}

/**
 * Asks for everything Run… needs; `taken` holds the names already in use,
 * `networks` the daemon's networks (the default one first).
 */
export async function promptRunChoices(
  imageLabel: string,
  taken: ReadonlySet<string>,
  networks: readonly NetworkChoice[],
): Promise<RunChoices | undefined> {
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

  const portsText = await vscode.window.showInputBox({
    title: `${title} (4/${STEPS})`,
    prompt: vscode.l10n.t(
      'Ports to publish, as docker run -p takes them: [IP:][HOST_PORT:]CONTAINER_PORT[/udp], separated by spaces or commas. Empty: none',
    ),
    placeHolder: '8080:80, 127.0.0.1::5432',
    validateInput: (v) => problem(() => parsePorts(v)),
  });
  if (portsText === undefined) return undefined;

  const network = await vscode.window.showQuickPick(
    [
      // The first is the default pick: the default network, also when the list could not be read.
      ...(networks.length
        ? networks.map((n) => ({ label: n.name, description: n.description, network: n.name }))
        : [{ label: 'bridge', description: vscode.l10n.t('default'), network: '' }]),
      { label: 'none', description: vscode.l10n.t('no network: only loopback'), network: 'none' },
      { label: 'host', description: vscode.l10n.t("the host's network: ports need no publishing"), network: 'host' },
    ],
    { title: `${title} (5/${STEPS})`, placeHolder: vscode.l10n.t('Network') },
  );
  if (!network) return undefined;

  const policy = await vscode.window.showQuickPick(
    RESTART_POLICY_NAMES.map((p) => ({ label: p, description: policyDescription(p) })),
    { title: `${title} (6/${STEPS})`, placeHolder: vscode.l10n.t('Restart policy') },
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
  const mode = await vscode.window.showQuickPick([detached, attached], { title: `${title} (7/${STEPS})` });
  if (!mode) return undefined;

  return {
    name: name.trim(),
    command: splitArgs(commandText),
    env: parseEnv(envText),
    publish: parsePorts(portsText),
    network: network.network,
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
