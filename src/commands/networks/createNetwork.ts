/**
 * Gantry: Create Network… Asks for a name (checked as typed by the rule the
 * daemon applies, and against the networks that exist), an optional subnet
 * (CIDR, checked as typed; empty: a free one), and whether the network is
 * internal (no route out of the host), then creates it. The new network
 * reaches the Networks view through the daemon's /networks/create event.
 *
 * Arguments: `{ name, subnet?, internal? }` creates without prompts.
 * Returns the created network, or undefined when the user cancelled.
 */
import * as vscode from 'vscode';
import { describe, type NetworkInfo } from '../../../runtime/client';
import { networkNameProblem, parseCidr } from '../../../runtime/options';
import type { CommandContext } from '../commandContext';

export interface CreateNetworkArgs {
  readonly name: string;
  readonly subnet?: string;
  readonly internal?: boolean;
}

const STEPS = 3;

export async function createNetwork(context: CommandContext, arg?: unknown): Promise<NetworkInfo | undefined> {
  const given =
    typeof arg === 'object' && arg !== null && typeof (arg as CreateNetworkArgs).name === 'string' ? (arg as CreateNetworkArgs) : undefined;
  const choices = given ?? (await prompt(context));
  if (!choices) return undefined;
  const client = context.connection.requireClient();
  const network = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Creating network {0}', choices.name) },
    () => client.networks.create({ name: choices.name, subnet: choices.subnet ?? '', internal: choices.internal ?? false }),
  );
  context.log.info(`Created network ${network.name} (${network.id}), subnet ${network.subnet}`);
  return network;
}

/** Undefined when `text` is empty or a CIDR subnet, else why not. */
export function subnetProblem(text: string): string | undefined {
  if (text.trim() === '') return undefined;
  try {
    parseCidr(text.trim(), true);
    return undefined;
  } catch (e) {
    return describe(e);
  }
}

async function prompt(context: CommandContext): Promise<CreateNetworkArgs | undefined> {
  const taken = new Set((await context.views.networks.networks().catch(() => [])).map((n) => n.name));
  const title = vscode.l10n.t('Create Network');
  const name = await vscode.window.showInputBox({
    title: `${title} (1/${STEPS})`,
    prompt: vscode.l10n.t('Network name'),
    placeHolder: 'my-network',
    validateInput: (v) => {
      const trimmed = v.trim();
      return networkNameProblem(trimmed) ?? (taken.has(trimmed) ? vscode.l10n.t('network {0} already exists', trimmed) : undefined);
    },
  });
  if (name === undefined) return undefined;

  const subnet = await vscode.window.showInputBox({
    title: `${title} (2/${STEPS})`,
    prompt: vscode.l10n.t('Subnet in CIDR notation (leave empty for a free one)'),
    placeHolder: '10.123.0.0/24',
    validateInput: subnetProblem,
  });
  if (subnet === undefined) return undefined;

  const routed = {
    label: vscode.l10n.t('Routed'),
    description: vscode.l10n.t('containers reach the outside through the host (default)'),
    internal: false,
  };
  const internal = { label: vscode.l10n.t('Internal'), description: vscode.l10n.t('no route out of the host'), internal: true };
  const mode = await vscode.window.showQuickPick([routed, internal], { title: `${title} (3/${STEPS})` });
  if (!mode) return undefined;
  return { name: name.trim(), subnet: subnet.trim(), internal: mode.internal };
}
