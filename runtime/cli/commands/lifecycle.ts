/**
 * Docker's lifecycle verbs over several containers at once: stop, restart,
 * kill, pause, unpause, rm, wait. Each prints the container as the user named
 * it (wait: its exit code) and reports failures one line each, exiting 1 if
 * any failed (see forEachContainer). `start` lives in start.ts because with
 * -a it attaches like `run`.
 */
import { parseSignal } from '../../options';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { forEachContainer } from './containerCommon';

function containersOf(command: Pick<Command, 'name'>, positionals: string[]): string[] {
  if (!positionals.length) throw new UsageError(`${command.name} needs at least one container`);
  return positionals;
}

/** `-t N`: whole seconds ≥ 0, as Docker's --time. */
export function parseTimeoutFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`invalid timeout "${value}": expected whole seconds`);
  return Number(value);
}

function checkSignal(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseSignal(value);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return value;
}

export const stopCommand: Command = {
  name: 'stop',
  summary: 'stop running containers',
  usage: `Usage: gantry stop [options] CONTAINER [CONTAINER...]

Send the stop signal (the container's, default SIGTERM), then SIGKILL after
the timeout (the container's --stop-timeout, default 10 s).

Options:
  -t, --time N          seconds to wait before killing
  -s, --signal SIGNAL   signal to send instead of the container's stop signal
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      {
        time: { type: 'string', short: 't' },
        signal: { type: 'string', short: 's' },
      },
      ctx,
      true,
    );
    if (!args) return 0;
    const timeoutSeconds = parseTimeoutFlag(args.values.time);
    const signal = checkSignal(args.values.signal);
    return forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
      await client.containers.stop(target, { timeoutSeconds, signal });
      ctx.stdout.write(`${target}\n`);
    });
  },
};

export const restartCommand: Command = {
  name: 'restart',
  summary: 'restart containers',
  usage: `Usage: gantry restart [options] CONTAINER [CONTAINER...]

Stop (as 'gantry stop') and start each container again.

Options:
  -t, --time N   seconds to wait for the stop before killing
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { time: { type: 'string', short: 't' } }, ctx, true);
    if (!args) return 0;
    const timeoutSeconds = parseTimeoutFlag(args.values.time);
    return forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
      await client.containers.restart(target, timeoutSeconds);
      ctx.stdout.write(`${target}\n`);
    });
  },
};

export const killCommand: Command = {
  name: 'kill',
  summary: 'send a signal to running containers',
  usage: `Usage: gantry kill [options] CONTAINER [CONTAINER...]

Options:
  -s, --signal SIGNAL   signal to send (name or number; default SIGKILL)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { signal: { type: 'string', short: 's' } }, ctx, true);
    if (!args) return 0;
    const signal = checkSignal(args.values.signal) ?? '';
    return forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
      await client.containers.kill(target, signal);
      ctx.stdout.write(`${target}\n`);
    });
  },
};

export const pauseCommand: Command = {
  name: 'pause',
  summary: 'freeze all processes of containers',
  usage: `Usage: gantry pause CONTAINER [CONTAINER...]
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    return forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
      await client.containers.pause(target);
      ctx.stdout.write(`${target}\n`);
    });
  },
};

export const unpauseCommand: Command = {
  name: 'unpause',
  summary: 'thaw paused containers',
  usage: `Usage: gantry unpause CONTAINER [CONTAINER...]
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    return forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
      await client.containers.unpause(target);
      ctx.stdout.write(`${target}\n`);
    });
  },
};

export const rmCommand: Command = {
  name: 'rm',
  summary: 'remove containers',
  usage: `Usage: gantry rm [options] CONTAINER [CONTAINER...]

Remove containers with their root filesystem and logs.

Options:
  -f, --force     kill and remove running containers
  -v, --volumes   also remove their anonymous volumes (named volumes stay)
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(
      this,
      argv,
      { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } },
      ctx,
      true,
    );
    if (!args) return 0;
    return forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
      await client.containers.remove(target, args.values.force === true, { volumes: args.values.volumes === true });
      ctx.stdout.write(`${target}\n`);
    });
  },
};

export const waitCommand: Command = {
  name: 'wait',
  summary: 'wait for containers to stop and print their exit codes',
  usage: `Usage: gantry wait CONTAINER [CONTAINER...]

Block until each container stops, then print its exit code.
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, {}, ctx, true);
    if (!args) return 0;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      return await forEachContainer(ctx, containersOf(this, args.positionals), async (client, target) => {
        const code = await client.containers.wait(target, 'not-running', { signal: stop.signal });
        ctx.stdout.write(`${code}\n`);
      });
    } finally {
      process.off('SIGINT', onSignal);
    }
  },
};
