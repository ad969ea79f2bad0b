/**
 * `gantry create` and `gantry run`. Options end at IMAGE (Docker semantics:
 * `run busybox ls -l` gives -l to ls). `run` without -d attaches and starts
 * in one call (Attach with start), so nothing the container writes before
 * we listen is lost, then exits with the container's exit code.
 *
 * Exit codes, as Docker's: the container's own code; 125 when gantry failed
 * (bad value, unknown image, the daemon refused); 126 when the command could
 * not be invoked; 127 when it was not found.
 */
import * as fs from 'node:fs';
import { attachAndStart, type ContainerSummary, type RuntimeClient } from '../../client';
import { describe, ErrorReasons, internal, isGantryError, isNotFound } from '../../errdefs/errdefs';
import { parseCommandArgs, UsageError, type Command, type CommandContext } from '../command';
import { shortId } from '../../presentation';
import { ExitCodeError } from '../exitCode';
import { ensureImage } from '../imagePull';
import { splitAtFirstPositional } from '../leadingOptions';
import { buildRunPlan, CREATE_OPTIONS, RUN_OPTIONS, type RunPlan } from '../runOptions';
import { pumpSession, requireTerminalInput } from '../stdio';
import { withClient } from '../withClient';

/** Signals a non-TTY `run` passes on to the container (Docker's --sig-proxy, on by default). */
const PROXIED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** 126/127 for a command that could not be run (the daemon's error reason), 125 for anything else. */
export function startFailureExitCode(e: unknown): number {
  if (!isGantryError(e) || e.transport) return 125;
  if (e.reason === ErrorReasons.commandNotFound) return 127;
  if (e.reason === ErrorReasons.commandNotExecutable) return 126;
  return 125;
}

function parseRunArgs(command: Command, ctx: CommandContext, argv: string[], kind: 'run' | 'create'): RunPlan | undefined {
  const options = kind === 'run' ? RUN_OPTIONS : CREATE_OPTIONS;
  const split = splitAtFirstPositional(argv, options);
  const args = parseCommandArgs(command, split.options, options, ctx);
  if (!args) return undefined;
  try {
    return buildRunPlan(kind, args.values, split.rest, { env: process.env, readFile: (p) => fs.readFileSync(p, 'utf8') });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new ExitCodeError(e, 125);
  }
}

/**
 * Pull if needed, then create; any failure is gantry's (125). With
 * `--pull missing` (the default) the create is tried first and the image
 * pulled only when the daemon has none, as Docker does: the common case,
 * an image that is there, costs one call instead of an inspect and a create.
 */
async function createContainer(client: RuntimeClient, ctx: CommandContext, plan: RunPlan): Promise<ContainerSummary> {
  try {
    if (plan.pull === 'missing') {
      try {
        return await client.containers.create(plan.name, plan.config);
      } catch (e) {
        if (!isNotFound(e) || !/no such image/.test((e as Error).message)) throw e;
      }
    }
    await ensureImage(client, plan.config.image, plan.pull, ctx.stderr);
    return await client.containers.create(plan.name, plan.config);
  } catch (e) {
    throw new ExitCodeError(e, 125);
  }
}

/** `--rm` asks the daemon to remove the container once it exits; a start that failed leaves it created, so remove it here. */
async function removeAfterFailedStart(client: RuntimeClient, ctx: CommandContext, id: string): Promise<void> {
  try {
    await client.containers.remove(id, true);
  } catch (e) {
    if (!isNotFound(e)) ctx.stderr.write(`gantry: could not remove ${shortId(id)} after the failed start: ${describe(e)}\n`);
  }
}

function proxySignals(client: RuntimeClient, id: string): () => void {
  const handlers = PROXIED_SIGNALS.map((signal) => {
    const handler = () => void client.containers.kill(id, signal).catch(() => undefined);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => handlers.forEach(([signal, handler]) => process.off(signal, handler));
}

async function runAttached(client: RuntimeClient, ctx: CommandContext, plan: RunPlan, id: string): Promise<number> {
  const { config } = plan;
  const out = process.stdout;
  // The pty gets the terminal's size before the process runs (later changes follow as resizes).
  const size = config.tty && out.isTTY && out.rows && out.columns ? { rows: out.rows, cols: out.columns } : undefined;
  const session = attachAndStart(client, id, { stdin: config.openStdin, size });
  const unproxy = config.tty ? () => undefined : proxySignals(client, id);
  let code: number | undefined;
  try {
    code = await pumpSession(session, {
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      stdin: config.openStdin ? process.stdin : undefined,
      tty: config.tty,
      sendInitialSize: size === undefined,
    });
  } catch (e) {
    if (isGantryError(e) && e.transport) throw new ExitCodeError(e, 125);
    const exitCode = startFailureExitCode(e);
    if (config.autoRemove) await removeAfterFailedStart(client, ctx, id);
    throw new ExitCodeError(e, exitCode);
  } finally {
    unproxy();
  }
  if (code === undefined) throw new ExitCodeError(internal('the daemon ended the attach without the exit code'), 125);
  if (config.autoRemove) {
    // Docker's run --rm returns once the container is gone, so `ps -a` right after does not show it.
    await client.containers.wait(id, 'removed').catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
  return code;
}

export const createCommand: Command = {
  name: 'create',
  summary: 'create a container without starting it',
  usage: `Usage: gantry create [options] IMAGE [COMMAND [ARG...]]

Create a container and print its ID. Options are those of 'gantry run'
without -d.
`,
  async run(ctx, argv) {
    const plan = parseRunArgs(this, ctx, argv, 'create');
    if (!plan) return 0;
    const container = await withClient(ctx, (client) => createContainer(client, ctx, plan));
    ctx.stdout.write(`${container.id}\n`);
    return 0;
  },
};

export const runCommand: Command = {
  name: 'run',
  summary: 'create and start a container',
  usage: `Usage: gantry run [options] IMAGE [COMMAND [ARG...]]

Create a container from IMAGE and start it. Without -d, stay attached and exit
with its exit code (125: gantry failed, 126: the command cannot be run, 127:
the command was not found). Options end at IMAGE.

Options:
  -d, --detach                 run in the background and print the container ID
  --name NAME                  container name (default: generated)
  -i, --interactive            keep stdin open and forward it
  -t, --tty                    allocate a terminal
  --rm                         remove the container when it exits
  -e, --env KEY[=VALUE]        set an environment variable (KEY alone: from this shell)
  --env-file FILE              read environment variables from FILE
  -w, --workdir DIR            working directory (absolute)
  -u, --user USER              name|uid[:group|gid]
  --hostname NAME              host name (Docker's -h; -h is help here)
  -l, --label KEY[=VALUE]      set a label;  --label-file FILE reads them from FILE
  -v, --volume SRC:DST[:MODE]  bind an absolute host path, or mount volume SRC (made if missing);
                               -v /DST alone: an anonymous volume. MODE: ro|rw[,nocopy]
  --mount type=volume|bind|tmpfs,source=…,target=…[,readonly][,volume-nocopy][,volume-opt=K=V]
                               [,tmpfs-size=…][,tmpfs-mode=…]: Docker's long form
  --volumes-from CTR[:ro|rw]   mount the volumes and binds of container CTR
  --tmpfs DST[:OPTIONS]        mount a tmpfs (size=64m,mode=1777,…)
  --read-only                  mount the root filesystem read-only
  -m, --memory SIZE            memory limit (512m, 1g)
  --cpus N                     CPU limit (1.5)
  --pids-limit N               process limit (-1: none)
  --cap-add CAP, --cap-drop CAP  add or drop Linux capabilities (ALL for all)
  --privileged                 all capabilities and host devices, no confinement
  --device HOST[:CTR[:PERMS]]  add a host device (PERMS: some of rwm)
  --cgroupns host|private      cgroup namespace (default: private on cgroup v2, host on v1)
  --security-opt OPT           seccomp=unconfined|PROFILE.json, apparmor=unconfined|PROFILE,
                               no-new-privileges[=true|false]
  --network, --net NETWORK     bridge (default), none, host, or a network from 'gantry network create'
  --network-alias ALIAS        another name for the container on a user network (shown by inspect)
  -p, --publish [IP:][HOSTPORT:]PORT[/tcp|/udp]
                               publish a container port (or a range) on the host; repeatable
  -P, --publish-all            publish every exposed port to a free host port
  --expose PORT[/PROTO]        expose a port (or a range) without publishing it
  --ip ADDRESS                 the container's IPv4 address (in the network's subnet)
  --mac-address MAC            the container's MAC address
  --dns IP                     a DNS server (instead of the host's); repeatable
  --dns-search DOMAIN          a DNS search domain; repeatable
  --dns-option OPTION          a resolv.conf option (ndots:2); repeatable
  --add-host NAME:IP           an /etc/hosts entry (IP may be host-gateway); repeatable
  --restart POLICY             no, always, unless-stopped, on-failure[:N]
  --health-cmd CMD             health check command (run by sh -c)
  --health-interval D, --health-timeout D, --health-start-period D   (30s, 1m30s)
  --health-retries N           failures before unhealthy
  --no-healthcheck             disable the image's health check
  --stop-signal SIGNAL         signal for 'gantry stop' (default SIGTERM)
  --stop-timeout N             seconds before 'gantry stop' kills (default 10)
  --entrypoint CMD             replace the image's entrypoint ("" clears it)
  --pull missing|always|never  when to pull the image (default missing)
`,
  async run(ctx, argv) {
    const plan = parseRunArgs(this, ctx, argv, 'run');
    if (!plan) return 0;
    if (!plan.detach && plan.config.tty && plan.config.openStdin) requireTerminalInput(process.stdin);
    return withClient(ctx, async (client) => {
      const container = await createContainer(client, ctx, plan);
      if (!plan.detach) return runAttached(client, ctx, plan, container.id);
      try {
        await client.containers.start(container.id);
      } catch (e) {
        if (plan.config.autoRemove) await removeAfterFailedStart(client, ctx, container.id);
        throw new ExitCodeError(e, startFailureExitCode(e));
      }
      ctx.stdout.write(`${container.id}\n`);
      return 0;
    });
  },
};
