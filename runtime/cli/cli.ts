/**
 * `gantry <command>`: parses the global options, finds the command and maps
 * whatever it throws to one line on stderr and an exit code. Commands are
 * thin clients of the gRPC API (docs/architecture.md, "Principles": everything
 * the extension can do, the CLI can do).
 */
import { describe, isGantryError, type ErrorKind } from '../errdefs/errdefs';
import {
  connectRemote,
  defaultSocket,
  discoverSocket,
  groupHint,
  sshOptionsFromEnv,
  SYSTEM_SOCKET,
  type DiscoveredSocket,
  type RemoteRuntime,
} from '../client';
import { type Command, type CommandContext, UsageError } from './command';
import { versionCommand } from './commands/version';
import { infoCommand } from './commands/info';
import { eventsCommand } from './commands/events';
import { dialStdioCommand } from './commands/dialStdio';
import { imageCommand } from './commands/imageGroup';
import { imagesCommand, rmiCommand, tagCommand } from './commands/images';
import { historyCommand } from './commands/history';
import { loginCommand, logoutCommand } from './commands/login';
import { registryCommand } from './commands/registry';
import { pullCommand } from './commands/pull';
import { pushCommand } from './commands/push';
import { loadCommand, saveCommand } from './commands/archive';
import { commitCommand, diffCommand, exportCommand, importCommand } from './commands/changes';
import { snapshotsCommand } from './commands/snapshots';
import { containerCommand } from './commands/containerGroup';
import { cpCommand } from './commands/cp';
import { attachCommand, execCommand } from './commands/exec';
import { inspectCommand } from './commands/inspect';
import { killCommand, pauseCommand, restartCommand, rmCommand, stopCommand, unpauseCommand, waitCommand } from './commands/lifecycle';
import { logsCommand } from './commands/logs';
import { volumeCommand } from './commands/volumeGroup';
import { networkCommand } from './commands/networkGroup';
import { portCommand } from './commands/port';
import { portForwardCommand } from './commands/portForward';
import { psCommand } from './commands/ps';
import { createCommand, runCommand } from './commands/run';
import { startCommand } from './commands/start';
import { statsCommand, topCommand } from './commands/stats';
import { systemCommand } from './commands/system';
import { installServiceCommand, uninstallServiceCommand } from './commands/service';
import { doctorCommand } from './commands/doctor';
import { ExitCodeError } from './exitCode';
import { background } from '../context';

const COMMANDS: readonly Command[] = [
  runCommand,
  createCommand,
  startCommand,
  stopCommand,
  restartCommand,
  killCommand,
  pauseCommand,
  unpauseCommand,
  rmCommand,
  psCommand,
  logsCommand,
  execCommand,
  attachCommand,
  cpCommand,
  waitCommand,
  portCommand,
  portForwardCommand,
  topCommand,
  statsCommand,
  inspectCommand,
  containerCommand,
  pullCommand,
  pushCommand,
  saveCommand,
  loadCommand,
  diffCommand,
  commitCommand,
  exportCommand,
  importCommand,
  imagesCommand,
  historyCommand,
  tagCommand,
  rmiCommand,
  imageCommand,
  networkCommand,
  volumeCommand,
  loginCommand,
  logoutCommand,
  registryCommand,
  snapshotsCommand,
  eventsCommand,
  systemCommand,
  infoCommand,
  versionCommand,
  dialStdioCommand,
  installServiceCommand,
  uninstallServiceCommand,
  doctorCommand,
];

export const USAGE = `Usage: gantry [--socket PATH | --host ssh://[USER@]HOST[:PORT]] COMMAND [options]

Gantry's container runtime CLI.

Global options:
  --socket PATH   gantryd API socket (env GANTRY_SOCKET; default: ${
    defaultSocket() === SYSTEM_SOCKET
      ? SYSTEM_SOCKET
      : `your own daemon's\n                  ${defaultSocket()} if one answers, else the system daemon's\n                  ${SYSTEM_SOCKET}`
  })
  -H, --host ssh://[USER@]HOST[:PORT]
                  gantryd on a remote Linux host over SSH, deployed and started
                  there if needed (env GANTRY_HOST; the system ssh client and its
                  config; env GANTRY_SSH_CONFIG for 'ssh -F', GANTRY_SSH_CONNECT_TIMEOUT,
                  GANTRY_SSH_ALIVE_INTERVAL, GANTRY_SSH_ALIVE_COUNT in seconds)
  -h, --help      show help

Commands:
  daemon          run gantryd in the foreground
${COMMANDS.map((c) => `  ${c.name.padEnd(15)} ${c.summary}`).join('\n')}

Run 'gantry COMMAND --help' for a command's options.
`;

/**
 * `gantry ps | head -1`: the reader went away, so the output is not wanted
 * any more — exit quietly as other Unix tools do, instead of an unhandled
 * EPIPE with a stack trace.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export async function cliMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  exitQuietlyOnClosedPipe(process.stdout);
  let socket = '';
  let found: DiscoveredSocket | undefined;
  let host = env.GANTRY_HOST || undefined;
  let socketFlag = false;
  let hostFlag = false;
  let remote: RemoteRuntime | undefined;
  let index = 0;
  try {
    for (; index < argv.length; index++) {
      const arg = argv[index];
      if (arg === '--socket') {
        const value = argv[++index];
        if (!value) throw new UsageError('--socket needs a path');
        socket = value;
        socketFlag = true;
      } else if (arg.startsWith('--socket=')) {
        socket = arg.slice('--socket='.length);
        socketFlag = true;
      } else if (arg === '--host' || arg === '-H' || arg.startsWith('--host=')) {
        const value = arg.startsWith('--host=') ? arg.slice('--host='.length) : argv[++index];
        if (!value) throw new UsageError('--host needs ssh://[user@]host[:port]');
        host = value;
        hostFlag = true;
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
    if (socketFlag && hostFlag) throw new UsageError('use either --socket or --host, not both');
    // An explicit --socket beats GANTRY_HOST (the remote side's own dial-stdio passes one).
    if (socketFlag) host = undefined;
    if (host) {
      remote = await connectRemote(background(), host, {
        ...sshOptionsFromEnv(env),
        onProgress: (m) => process.stderr.write(`gantry: ${m}\n`),
      });
      // What works there only in part (no CNI networking, no native addon for its arch): every time, as the extension logs it.
      for (const w of remote.deploy.warnings) process.stderr.write(`gantry: ${w}\n`);
      socket = remote.socketPath;
    }
    if (!host) {
      found = await discoverSocket({ flag: socketFlag ? socket : undefined, env });
      socket = found.socket;
    }
    const ctx: CommandContext = {
      socket,
      socketSource: found?.source,
      socketFound: found?.found,
      stdout: process.stdout,
      stderr: process.stderr,
    };
    return await command.run(ctx, argv.slice(index + 1));
  } catch (e) {
    // Over SSH, "cannot reach gantryd" has an ssh-level reason (remote.translate), not a local socket to check.
    const say = (err: unknown) =>
      host && isGantryError(err) && err.transport ? describe(remote ? remote.translate(err) : err) : explain(err, socket, found);
    if (e instanceof ExitCodeError) {
      process.stderr.write(`gantry: ${say(e.cause)}\n`);
      return e.exitCode;
    }
    process.stderr.write(`gantry: ${say(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await remote?.close();
  }
}

/** One line a person can act on. */
export function explain(e: unknown, socket: string, found?: DiscoveredSocket): string {
  if (e instanceof UsageError) return `${e.message} (see 'gantry --help')`;
  if (isGantryError(e) && e.kind === ('Unavailable' satisfies ErrorKind) && e.transport) {
    if (/Connection dropped|ECONNRESET/.test(e.message)) return `lost the connection to gantryd at ${socket}; did the daemon stop?`;
    // Discovery found nothing it may use: name every place it looked (runtime/client/discovery.ts).
    if (found && !found.found && found.tried.length > 1) {
      return `cannot find gantryd: tried ${found.tried.map((t) => `${t.socket} (${t.reason})`).join(', ')}; is it running? Start your own with: gantry daemon`;
    }
    if (found && !found.found && found.tried.length === 1) {
      const [t] = found.tried;
      return `cannot connect to gantryd at ${t.socket} (${t.reason}); is it running? Start it with: gantry daemon --socket ${t.socket}`;
    }
    const reason = unreachableReason(e.message);
    if (reason === 'permission denied') return `cannot connect to gantryd at ${socket} (permission denied${groupHint(socket)})`;
    return `cannot connect to gantryd at ${socket} (${reason}); is it running? Start it with: gantry daemon --socket ${socket}`;
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
