/**
 * The system `ssh` client, always spawned with an argv array, so the user's
 * ssh_config, agent, keys, known_hosts and ProxyJump apply exactly as in a
 * terminal. We add only what a background tool needs: no prompts
 * (BatchMode), strict host keys (never accept-new), a connect timeout,
 * keepalives (a dead link ends ssh instead of hanging), no tty, no agent or
 * X11 forwarding, no forwardings, RemoteCommand or LocalCommand from the
 * config, and never a ControlMaster of our own (its persisted master would
 * outlive us).
 *
 * Each ssh runs in its own process group, so stopping it also stops a
 * ProxyCommand/ProxyJump helper it forked.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Ctx } from '../../context';
import { GantryError, invalidArgument } from '../../errdefs/errdefs';
import type { SshOptions, SshTarget } from './remote';
import { classifySshFailure, type SshFailureContext } from './sshErrors';
import { formatSshTarget } from './target';

export const SSH_DEFAULTS = { connectTimeoutSec: 15, aliveIntervalSec: 5, aliveCountMax: 3 } as const;

/** ssh's exit status for its own failures (anything else is the remote command's). */
export const SSH_FAILED = 255;

const MAX_STDOUT = 1 << 20;
const MAX_STDERR = 64 << 10;

/**
 * One POSIX-shell word that stands for `value` literally: single quotes, with
 * each ' written as '\''. sh, bash, dash, zsh, ksh and fish all read it so.
 * Newlines and NULs are refused (csh cannot quote a newline; no path needs one).
 */
export function shellQuote(value: string): string {
  if (/[\0\n\r]/.test(value)) throw invalidArgument(`a remote argument must not contain newlines or NUL: ${JSON.stringify(value)}`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A remote command line from words, each quoted. */
export function remoteCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

export interface RemoteResult {
  /** The remote command's exit status (never 255: that is thrown as an ssh failure). */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Sent as the remote command's stdin, then closed. */
  readonly input?: string | Buffer | Readable;
  /** Kill ssh and fail with DeadlineExceeded after this long. */
  readonly timeoutMs: number;
  /** What is being done, for the timeout message ("probing the host"). */
  readonly what: string;
}

export class Ssh {
  constructor(
    readonly target: SshTarget,
    readonly options: SshOptions = {},
  ) {}

  get label(): string {
    return formatSshTarget(this.target);
  }

  get aliveTimeoutSec(): number {
    return (this.options.aliveIntervalSec ?? SSH_DEFAULTS.aliveIntervalSec) * (this.options.aliveCountMax ?? SSH_DEFAULTS.aliveCountMax);
  }

  /** The full argv after the ssh binary, for running `command` on the host. */
  argv(command: string): string[] {
    const o = this.options;
    const args: string[] = [];
    if (o.configFile) args.push('-F', o.configFile);
    for (const [key, value] of [
      ['BatchMode', 'yes'],
      ['StrictHostKeyChecking', 'yes'],
      ['ConnectTimeout', String(o.connectTimeoutSec ?? SSH_DEFAULTS.connectTimeoutSec)],
      ['ServerAliveInterval', String(o.aliveIntervalSec ?? SSH_DEFAULTS.aliveIntervalSec)],
      ['ServerAliveCountMax', String(o.aliveCountMax ?? SSH_DEFAULTS.aliveCountMax)],
      ['ClearAllForwardings', 'yes'],
      ['ControlMaster', 'no'],
      // A config's RemoteCommand would clash with ours; its LocalCommand must not run for each session.
      ['RemoteCommand', 'none'],
      ['PermitLocalCommand', 'no'],
    ]) {
      args.push('-o', `${key}=${value}`);
    }
    args.push('-T', '-x', '-a');
    if (this.target.user) args.push('-l', this.target.user);
    if (this.target.port) args.push('-p', String(this.target.port));
    args.push('--', this.target.host, command);
    return args;
  }

  /** What a person would type to reach the same host (for error messages). */
  get sshCommand(): string {
    const parts = ['ssh'];
    if (this.options.configFile) parts.push('-F', this.options.configFile);
    if (this.target.port) parts.push('-p', String(this.target.port));
    parts.push(this.target.user ? `${this.target.user}@${this.target.host}` : this.target.host);
    return parts.join(' ');
  }

  failureContext(): SshFailureContext {
    return { label: this.label, host: this.target.host, sshCommand: this.sshCommand, aliveTimeoutSec: this.aliveTimeoutSec };
  }

  /** A streaming session; the caller owns the process (see killGroup). */
  spawn(command: string): ChildProcessWithoutNullStreams {
    return spawn(this.options.sshPath ?? 'ssh', this.argv(command), { stdio: 'pipe', detached: true });
  }

  /** The error for a spawn failure of ssh itself (not installed, …). */
  spawnError(e: NodeJS.ErrnoException): GantryError {
    const bin = this.options.sshPath ?? 'ssh';
    if (e.code === 'ENOENT') {
      return new GantryError(
        'FailedPrecondition',
        `the ssh client "${bin}" was not found: install OpenSSH's client (e.g. apt install openssh-client)`,
        {
          cause: e,
          transport: true,
        },
      );
    }
    return new GantryError('Unavailable', `cannot run ${bin}: ${e.message}`, { cause: e, transport: true });
  }

  /**
   * Runs `command` to completion. Resolves with its exit status and output;
   * rejects with the classified ssh failure (exit 255), Cancelled when
   * ctx.signal aborts, DeadlineExceeded after timeoutMs. ssh is stopped in
   * every failure case.
   */
  run(ctx: Ctx, command: string, opts: RunOptions): Promise<RemoteResult> {
    return new Promise<RemoteResult>((resolve, reject) => {
      if (ctx.signal.aborted) {
        reject(new GantryError('Cancelled', `${opts.what} on ${this.label}: cancelled`));
        return;
      }
      const child = this.spawn(command);
      let stdout = '';
      let stderr = '';
      let failure: GantryError | undefined;
      const stop = (e: GantryError) => {
        failure ??= e;
        killGroup(child, 'SIGTERM');
      };
      const onAbort = () => stop(new GantryError('Cancelled', `${opts.what} on ${this.label}: cancelled`));
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () =>
          stop(
            new GantryError('DeadlineExceeded', `${opts.what} on ${this.label}: no answer within ${Math.round(opts.timeoutMs / 1000)} s`, {
              transport: true,
            }),
          ),
        opts.timeoutMs,
      );
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        if (stdout.length < MAX_STDOUT) stdout += s;
      });
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        stderr = keepTail(stderr + s, MAX_STDERR);
      });
      // ssh may exit before reading all of stdin (a refused connection): EPIPE is expected then.
      child.stdin.on('error', () => undefined);
      child.once('error', (e) => stop(this.spawnError(e)));
      const input = opts.input ?? '';
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        if (typeof input !== 'string' && !Buffer.isBuffer(input)) input.destroy(); // its fd, if ssh quit early
        killGroup(child, 'SIGKILL'); // a ProxyCommand helper left behind, if any
        if (failure) reject(failure);
        else if (code === SSH_FAILED) reject(classifySshFailure(stderr, this.failureContext()));
        else if (code === null) reject(new GantryError('Unavailable', `ssh to ${this.label} was killed (${signal})`, { transport: true }));
        else resolve({ code, stdout, stderr });
      });
      if (typeof input === 'string' || Buffer.isBuffer(input)) child.stdin.end(input);
      else {
        input.on('error', (e) => stop(new GantryError('Internal', `reading upload for ${opts.what}: ${e.message}`, { cause: e })));
        input.pipe(child.stdin);
      }
    });
  }
}

/** The last `max` characters: ssh's verdict comes last, after any debug chatter a config asked for. */
export function keepTail(text: string, max: number): string {
  return text.length > max ? text.slice(text.length - max) : text;
}

/** Signals ssh's whole process group (it was spawned detached); quiet when already gone. */
export function killGroup(child: { pid?: number }, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
