/**
 * `gantry exec` and `gantry attach`: the CLI's stdio joined to a new process
 * in a running container, or to the container's own. Both end with the
 * process's exit code, as Docker's do.
 */
import { ContainerStatus } from '../../client';
import { failedPrecondition, internal } from '../../errdefs/errdefs';
import { parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { ExitCodeError } from '../exitCode';
import { splitAtFirstPositional } from '../leadingOptions';
import { expandEnv } from '../runOptions';
import { pumpSession, requireTerminalInput } from '../stdio';
import { withClient } from '../withClient';
import { startFailureExitCode } from './run';

const EXEC_OPTIONS = {
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  detach: { type: 'boolean', short: 'd' },
  env: { type: 'string', short: 'e', multiple: true },
  user: { type: 'string', short: 'u' },
  workdir: { type: 'string', short: 'w' },
} as const;

function terminalSize(ctx: CommandContext): { rows: number; cols: number } | undefined {
  const out = ctx.stdout as { isTTY?: boolean; rows?: number; columns?: number };
  return out.isTTY && out.rows && out.columns ? { rows: out.rows, cols: out.columns } : undefined;
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'run a command in a running container',
  usage: `Usage: gantry exec [options] CONTAINER COMMAND [ARG...]

Run COMMAND in the running container and exit with its exit code. Options end
at CONTAINER: everything after it is the command.

Options:
  -i, --interactive     forward stdin
  -t, --tty             allocate a terminal
  -d, --detach          run the command in the background
  -e, --env KEY=VALUE   set an environment variable (KEY alone: take it from this shell)
  -u, --user USER       name|uid[:group|gid]
  -w, --workdir DIR     working directory inside the container
`,
  async run(ctx, argv) {
    const split = splitAtFirstPositional(argv, EXEC_OPTIONS);
    const args = parseCommandArgs(this, split.options, EXEC_OPTIONS, ctx);
    if (!args) return 0;
    const [container, ...command] = split.rest;
    if (!container || !command.length) throw new UsageError('exec needs a container and a command');
    const v = args.values;
    const tty = v.tty === true;
    const detach = v.detach === true;
    const stdin = v.interactive === true && !detach;
    if (tty && stdin) requireTerminalInput(process.stdin);
    return withClient(ctx, async (client) => {
      const session = client.containers.exec({
        id: container,
        args: command,
        env: expandEnv(v.env ?? [], process.env),
        user: v.user ?? '',
        workingDir: v.workdir ?? '',
        tty,
        stdin,
        size: tty ? terminalSize(ctx) : undefined,
        detach,
      });
      if (detach) {
        // The daemon answers `started` and leaves the process running.
        for await (const _ of session.responses()) {
          // nothing else comes
        }
        return 0;
      }
      let code: number | undefined;
      try {
        code = await pumpSession(session, {
          stdout: ctx.stdout,
          stderr: ctx.stderr,
          stdin: stdin ? process.stdin : undefined,
          tty,
          sendInitialSize: false,
        });
      } catch (e) {
        // The daemon could not run the command: Docker's 127 (not found) or 126 (not executable).
        const exitCode = startFailureExitCode(e);
        if (exitCode !== 125) throw new ExitCodeError(e, exitCode);
        throw e;
      }
      if (code === undefined) throw internal('the exec session ended without an exit code');
      return code;
    });
  },
};

export const attachCommand: Command = {
  name: 'attach',
  summary: 'attach the terminal to a running container',
  usage: `Usage: gantry attach [options] CONTAINER

Join the container's stdout/stderr (and stdin, if it was created with -i)
until it exits; exit with its exit code.

Options:
  --no-stdin   do not forward stdin
`,
  async run(ctx, argv) {
    const args = parseCommandArgs(this, argv, { 'no-stdin': { type: 'boolean' } }, ctx, true);
    if (!args) return 0;
    if (args.positionals.length !== 1) throw new UsageError('attach needs exactly one container');
    return withClient(ctx, async (client) => {
      const details = await client.containers.inspect(args.positionals[0]);
      const summary = details.container!;
      if (summary.status !== ContainerStatus.CONTAINER_STATUS_RUNNING) {
        throw failedPrecondition(`container ${summary.name} is not running; start it first (gantry start -a ${summary.name})`);
      }
      const stdin = details.config?.openStdin === true && args.values['no-stdin'] !== true;
      const session = client.containers.attach({ id: summary.id, stdin });
      const code = await pumpSession(session, {
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        stdin: stdin ? process.stdin : undefined,
        tty: summary.tty,
      });
      if (code !== undefined) return code;
      const after = await client.containers.inspect(summary.id);
      return after.container?.status === ContainerStatus.CONTAINER_STATUS_RUNNING ? 0 : (after.container?.exitCode ?? 0);
    });
  },
};
