/**
 * The OCI `process` object of an exec (`runc exec --process <file>`): the
 * container's own process from `<bundle>/config.json` with the exec's args,
 * env, user, cwd and terminal put over it. Security settings
 * (capabilities, noNewPrivileges, apparmor/SELinux labels, rlimits,
 * oomScoreAdj) stay the container's, so an exec can do no more than the
 * container's main process could — as Docker and podman do.
 */
import * as fs from 'node:fs';
import { describe, failedPrecondition, invalidArgument } from '../../errdefs/errdefs';

export interface ExecUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids?: readonly number[];
}

export interface ExecProcessOptions {
  readonly args: readonly string[];
  /** KEY=VALUE; added to the container's env, replacing entries with the same KEY. */
  readonly env?: readonly string[];
  /** Default: the container's user. */
  readonly user?: ExecUser;
  /** Absolute; default: the container's cwd. */
  readonly cwd?: string;
  readonly tty: boolean;
  /** Initial pty size (TTY only); a pty of 0×0 confuses most programs. */
  readonly consoleSize?: { readonly rows: number; readonly cols: number };
}

/** An OCI runtime-spec `process` object; fields gantryd does not touch pass through. */
export type OciProcess = Record<string, unknown> & {
  args: string[];
  env?: string[];
  cwd: string;
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number; username?: string };
  consoleSize?: { height: number; width: number };
};

export const DEFAULT_CONSOLE_SIZE = { rows: 24, cols: 80 } as const;

/** Reads `<bundle>/config.json`'s process and applies the exec's settings. */
export async function execProcessSpec(bundle: string, opts: ExecProcessOptions): Promise<OciProcess> {
  if (opts.args.length === 0) throw invalidArgument('exec: no command given');
  if (opts.cwd !== undefined && !opts.cwd.startsWith('/'))
    throw invalidArgument(`exec: working directory ${JSON.stringify(opts.cwd)} is not absolute`);
  for (const e of opts.env ?? []) {
    if (!e.includes('=') || e.startsWith('=')) throw invalidArgument(`exec: env entry ${JSON.stringify(e)} is not KEY=VALUE`);
  }
  let base: OciProcess;
  try {
    const spec = JSON.parse(await fs.promises.readFile(`${bundle}/config.json`, 'utf8')) as { process?: OciProcess };
    if (!spec.process) throw new Error('config.json has no process');
    base = spec.process;
  } catch (e) {
    throw failedPrecondition(`exec: cannot read the container's spec in ${bundle}: ${describe(e)}`, e);
  }
  const proc: OciProcess = {
    ...base,
    args: [...opts.args],
    env: mergeEnv(base.env ?? [], opts.env ?? []),
    cwd: opts.cwd ?? base.cwd,
    terminal: opts.tty,
    user: opts.user
      ? {
          uid: opts.user.uid,
          gid: opts.user.gid,
          ...(opts.user.additionalGids?.length ? { additionalGids: [...opts.user.additionalGids] } : {}),
        }
      : base.user,
  };
  delete proc.consoleSize;
  if (opts.tty) {
    const size = opts.consoleSize ?? DEFAULT_CONSOLE_SIZE;
    proc.consoleSize = { height: size.rows, width: size.cols };
  }
  return proc;
}

/** Container env first, exec entries replace same-named ones in place, new ones are appended. */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const key = (e: string) => e.slice(0, e.indexOf('=') >= 0 ? e.indexOf('=') : e.length);
  const out = [...base];
  for (const e of extra) {
    const i = out.findIndex((b) => key(b) === key(e));
    if (i >= 0) out[i] = e;
    else out.push(e);
  }
  return out;
}
