/**
 * `gantry <command>`: parses the global options, finds the command and maps
 * whatever it throws to one line on stderr and an exit code. Commands are
 * thin clients of the gRPC API (ARCHITECTURE.md: everything the extension can
 * do, the CLI can do).
 */
import { describe, isGantryError, type ErrorKind } from '../errdefs/errdefs';
import { defaultSocket } from '../daemon/paths';
import { type Command, type CommandContext, UsageError } from './command';
import { versionCommand } from './commands/version';
import { infoCommand } from './commands/info';
import { eventsCommand } from './commands/events';
import { dialStdioCommand } from './commands/dialStdio';
import { imageCommand } from './commands/image';
import { imageInspectCommand, imagesCommand, rmiCommand, tagCommand } from './commands/images';
import { loginCommand, logoutCommand } from './commands/login';
import { pullCommand } from './commands/pull';
import { snapshotsCommand } from './commands/snapshots';

const COMMANDS: readonly Command[] = [
  pullCommand,
  imagesCommand,
  imageInspectCommand,
  tagCommand,
  rmiCommand,
  imageCommand,
  loginCommand,
  logoutCommand,
  snapshotsCommand,
  eventsCommand,
  infoCommand,
  versionCommand,
  dialStdioCommand,
];

export const USAGE = `Usage: gantry [--socket PATH] COMMAND [options]

Gantry's container runtime CLI.

Global options:
  --socket PATH   gantryd API socket (env GANTRY_SOCKET; default ${defaultSocket()})
  -h, --help      show help

Commands:
  daemon          run gantryd in the foreground
${COMMANDS.map((c) => `  ${c.name.padEnd(15)} ${c.summary}`).join('\n')}

Run 'gantry COMMAND --help' for a command's options.
`;

export async function cliMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let socket = env.GANTRY_SOCKET || defaultSocket(env);
  let index = 0;
  try {
    for (; index < argv.length; index++) {
      const arg = argv[index];
      if (arg === '--socket') {
        const value = argv[++index];
        if (!value) throw new UsageError('--socket needs a path');
        socket = value;
      } else if (arg.startsWith('--socket=')) {
        socket = arg.slice('--socket='.length);
      } else if (arg === '-h' || arg === '--help') {
        process.stdout.write(USAGE);
        return 0;
      } else if (arg.startsWith('-')) {
        throw new UsageError(`unknown global option ${arg}`);
      } else {
        break;
      }
    }
    const name = argv[index];
    if (!name) {
      process.stdout.write(USAGE);
      return 2;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}"`);
    const ctx: CommandContext = { socket, stdout: process.stdout, stderr: process.stderr };
    return await command.run(ctx, argv.slice(index + 1));
  } catch (e) {
    process.stderr.write(`gantry: ${explain(e, socket)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** One line a person can act on. */
export function explain(e: unknown, socket: string): string {
  if (e instanceof UsageError) return `${e.message} (see 'gantry --help')`;
  if (isGantryError(e) && e.kind === ('Unavailable' satisfies ErrorKind) && e.transport) {
    if (/Connection dropped|ECONNRESET/.test(e.message)) return `lost the connection to gantryd at ${socket}; did the daemon stop?`;
    return `cannot connect to gantryd at ${socket} (${unreachableReason(e.message)}); is it running? Start it with: gantry daemon --socket ${socket}`;
  }
  if (isGantryError(e) && e.kind === 'Unauthenticated') return `${describe(e)} (log in with 'gantry login REGISTRY')`;
  return describe(e);
}

function unreachableReason(message: string): string {
  if (message.includes('ENOENT')) return 'no such socket';
  if (message.includes('ECONNREFUSED')) return 'connection refused';
  if (message.includes('EACCES')) return 'permission denied';
  return message.replace(/^No connection established\. Last error: /, '');
}
