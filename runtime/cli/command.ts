import type { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { SocketSource } from '../client';

export interface CommandContext {
  readonly socket: string;
  /** How `socket` was found (runtime/client/discovery.ts); undefined over SSH. */
  readonly socketSource?: SocketSource;
  /** False when discovery found no daemon it may use: `socket` must then not be dialled (withClient.ts). */
  readonly socketFound?: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the process exit code. */
  run(ctx: CommandContext, argv: string[]): Promise<number>;
}

/** A mistake in how the command was called (exit code 2), as opposed to a failure while running it. */
export class UsageError extends Error {}

/** node:util parseArgs with its errors turned into UsageErrors and --help handled. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: Pick<Command, 'name' | 'usage'>,
  argv: string[],
  options: T,
  ctx: CommandContext,
  allowPositionals = false,
) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
    if ((parsed.values as { help?: boolean }).help) {
      ctx.stdout.write(command.usage);
      return undefined;
    }
    return parsed;
  } catch (e) {
    throw new UsageError(`${command.name}: ${(e as Error).message}`);
  }
}

/**
 * A management command (`gantry image …`, `gantry container …`): runs the
 * subcommand its first argument names; none or `--help` prints the usage.
 */
export function commandGroup(group: Pick<Command, 'name' | 'summary' | 'usage'>, subcommands: Readonly<Record<string, Command>>): Command {
  return {
    ...group,
    async run(ctx, argv) {
      const [name, ...rest] = argv;
      if (!name || name === '-h' || name === '--help') {
        parseCommandArgs(this, ['--help'], {}, ctx);
        return name ? 0 : 2;
      }
      const sub = subcommands[name];
      if (!sub) throw new UsageError(`unknown ${group.name} command "${name}"`);
      return sub.run(ctx, rest);
    },
  };
}
