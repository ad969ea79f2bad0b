/**
 * Gantry: Run… (gantry.images.run) Creates a container from an image and
 * starts it, as `docker run` does: asks for a name, a command (split into
 * argv here, never handed to a shell), environment, ports to publish (`-p`
 * syntax), a network (the daemon's, default `bridge`, or none/host),
 * restart policy, and whether to run detached or attached in a terminal
 * (runPrompts.ts).
 *
 * Detached: create, then start. Attached: create with a TTY and stdin, then
 * one Attach call with `start` set: the daemon starts the container only
 * once the attach is in place, so no output is lost; the terminal is the
 * container's console; after the container's exit it keeps the output and
 * says the exit code until a key closes it; closing it before detaches (the
 * container runs on). Either way the new container reaches the Containers
 * view through the daemon's events. A start that fails (the command not in
 * the image, say) is reported once in the user's terms, with a button that
 * removes the container it left in Created (runFailure.ts); an attached
 * run's terminal then closes.
 *
 * Arguments: an image node or image name (without one, a QuickPick that
 * also offers to pull a typed reference first: runImagePick.ts), then
 * `{ name, command, env, publish, network, restartPolicy, attach }`
 * (command, env and publish as arrays or as the text the prompts take). With options there are no
 * prompts, and what is not given takes its default (as with
 * `{ prompt: false }`); without, every prompt. Returns the container record
 * and, when attached, its terminal.
 */
import * as vscode from 'vscode';
import { type ContainerSummary, invalidArgument, isGantryError } from '../../../runtime/client';
import { StdioTerminal } from '../../terminals/stdioTerminal';
import { attachAndStartConnection } from '../../terminals/stdioSessions';
import { isImageNode } from '../../views/images/imageNodes';
import type { CommandContext } from '../commandContext';
import type { ContainerTerminal } from './openContainerShell';
import { reportRunFailure } from './runFailure';
import { pickImageToRun } from './runImagePick';
import { promptRunChoices, type RunChoices } from './runPrompts';
import { isRestartPolicyName } from '../../../runtime/options';
import { nameProblem, parseEnv, parsePorts, splitArgs } from './runInput';

export interface RunOptions {
  readonly name?: string;
  readonly command?: string | readonly string[];
  readonly env?: string | readonly string[];
  /** `-p` values ("8080:80"). */
  readonly publish?: string | readonly string[];
  /** A network's name, "none" or "host"; default: the default network. */
  readonly network?: string;
  readonly restartPolicy?: string;
  readonly attach?: boolean;
  /** false: no prompts; what is not given takes its default. */
  readonly prompt?: boolean;
}

export interface RunResult {
  readonly container: ContainerSummary;
  /** Set when run attached. */
  readonly terminal?: ContainerTerminal;
}

export async function runContainer(context: CommandContext, arg?: unknown, ...rest: unknown[]): Promise<RunResult | undefined> {
  const client = context.connection.requireClient();
  const options = (rest.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) ?? {}) as RunOptions;
  const image = isImageNode(arg)
    ? { name: arg.image.name, label: arg.image.name }
    : typeof arg === 'string' && arg.trim()
      ? { name: arg.trim(), label: arg.trim() }
      : await pickImageToRun(context);
  if (!image) return undefined;

  const choices = await choose(context, image.label, options);
  if (!choices) return undefined;
  const config = {
    image: image.name,
    cmd: choices.command,
    env: choices.env,
    publish: choices.publish,
    network: choices.network,
    restartPolicy: { name: choices.restartPolicy, maximumRetryCount: 0 },
    tty: choices.attach,
    openStdin: choices.attach,
  };
  const created = await client.containers.create(choices.name, config);
  context.log.info(`Created container ${created.name} (${created.id}) from ${image.name}`);
  if (!choices.attach) {
    try {
      const started = await client.containers.start(created.id);
      context.log.info(`Started container ${started.name}`);
      return { container: started };
    } catch (e) {
      if (!isDaemonError(e)) throw e;
      await reportRunFailure(context, created, image.label, e);
      return undefined;
    }
  }

  const session = new StdioTerminal({
    tty: true,
    log: context.log,
    banner: vscode.l10n.t('Attached to {0}; closing this terminal detaches (the container keeps running).', created.name),
    holdOnExit: (code) => vscode.l10n.t('The container exited with code {0}.', code),
    // The daemon refused the start (the attach failed before any exit): one notification, as for a detached run.
    onFailure: (e) => {
      if (!isDaemonError(e)) return false;
      void reportRunFailure(context, created, image.label, e);
      return true;
    },
    connect: async (dimensions) => {
      const connection = attachAndStartConnection(client, created.id);
      if (dimensions) connection.resize(dimensions.rows, dimensions.columns);
      return connection;
    },
  });
  const terminal = vscode.window.createTerminal({ name: created.name, pty: session, iconPath: new vscode.ThemeIcon('vm') });
  terminal.show();
  return { container: created, terminal: { terminal, session } };
}

/** An error the daemon returned (not a lost connection, which the command wrapper explains). */
function isDaemonError(e: unknown): boolean {
  return isGantryError(e) && !e.transport;
}

/** The prompts' answers, or the options with defaults for what they leave out. */
async function choose(context: CommandContext, imageLabel: string, options: RunOptions): Promise<RunChoices | undefined> {
  const given = Object.keys(options).some((k) => k !== 'prompt');
  if (!given && options.prompt !== false) {
    const taken = new Set((await context.views.containers.containers().catch(() => [])).map((c) => c.name));
    // Listing networks can fail (CNI unavailable): none/host are still offered.
    const listed = await context.views.networks.networks().catch(() => []);
    const networks = [...listed]
      .sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.name.localeCompare(b.name))
      .map((n) => ({
        name: n.name,
        description: [n.builtin ? vscode.l10n.t('default') : '', n.subnet, n.internal ? vscode.l10n.t('internal') : '']
          .filter(Boolean)
          .join(' · '),
      }));
    return promptRunChoices(imageLabel, taken, networks);
  }
  const name = options.name?.trim() ?? '';
  const problem = nameProblem(name);
  if (problem) throw invalidArgument(`invalid container name "${name}": ${problem}`);
  const restartPolicy = options.restartPolicy ?? 'no';
  if (!isRestartPolicyName(restartPolicy)) throw invalidArgument(`unknown restart policy "${restartPolicy}"`);
  return {
    name,
    command: typeof options.command === 'string' ? splitArgs(options.command) : [...(options.command ?? [])],
    env: typeof options.env === 'string' ? parseEnv(options.env) : [...(options.env ?? [])],
    publish: typeof options.publish === 'string' ? parsePorts(options.publish) : [...(options.publish ?? [])],
    network: options.network ?? '',
    restartPolicy,
    attach: options.attach ?? false,
  };
}
