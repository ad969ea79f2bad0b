// Unprivileged users a test creates (and removes): the CLI run as someone
// other than root, with that user's groups, as a login would have them.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type CliOptions, type CliResult, GANTRY_JS } from './daemon';
import { runCommand, startProcess, type Proc } from './proc';
import type { Cleanup } from './tmp';

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Its home, 0700, its own. */
  readonly home: string;
}

/** useradd fails while another process holds /etc/passwd's lock (other suites create users too). */
export async function retryLocked<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 20 || !/lock|try again/i.test((e as Error).message)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100 + attempt * 50));
    }
  }
}

/** A new user with its own group and home in `parent`; removed with everything it owns by `cleanup`. */
export async function createTestUser(cleanup: Cleanup, parent: string, opts: { groups?: readonly string[] } = {}): Promise<TestUser> {
  const name = `gt${randomBytes(4).toString('hex')}`;
  const home = path.join(parent, name);
  await retryLocked(() =>
    runCommand('useradd', [
      '--no-create-home',
      '--home-dir',
      home,
      '--shell',
      '/bin/sh',
      '--user-group',
      ...(opts.groups?.length ? ['--groups', opts.groups.join(',')] : []),
      name,
    ]),
  );
  cleanup.defer(async () => {
    await runCommand('pkill', ['-KILL', '-u', name]).catch(() => undefined);
    await retryLocked(() => runCommand('userdel', [name]));
  });
  const uid = Number((await runCommand('id', ['-u', name])).stdout.trim());
  const gid = Number((await runCommand('id', ['-g', name])).stdout.trim());
  fs.mkdirSync(home, { mode: 0o700 });
  fs.chownSync(home, uid, gid);
  return { name, uid, gid, home };
}

/** A clean login-like environment for `user`: HOME, USER, a PATH with the sbin dirs, and `extra`. */
export function userEnv(user: TestUser, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

/**
 * argv that runs `cmd` as `user` with the groups /etc/group gives it
 * (setpriv --init-groups; node's own uid/gid spawn options drop them).
 */
export function asUser(user: TestUser, cmd: string, args: readonly string[]): [string, string[]] {
  return ['setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', cmd, ...args]];
}

/** `node dist/gantry.js ARGS…` as `user`, to completion (environment: userEnv unless given). */
export async function runGantryAs(user: TestUser, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const [cmd, argv] = asUser(user, process.execPath, [GANTRY_JS, ...args]);
  const proc = startProcess(cmd, argv, {
    env: opts.env ?? userEnv(user),
    stdin: opts.input !== undefined,
    name: `gantry ${args.join(' ')} as ${user.name}`,
  });
  if (opts.input !== undefined) proc.child.stdin!.end(opts.input);
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeout ?? 60_000);
  const status = await proc.waitForExit();
  clearTimeout(timer);
  await new Promise((resolve) => setImmediate(resolve));
  return { code: status.code, stdout: proc.stdout, stderr: proc.stderr };
}

/** A long-running process as `user`. */
export function startAs(user: TestUser, cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  const [c, a] = asUser(user, cmd, args);
  return startProcess(c, a, { env, name: `${path.basename(cmd)} as ${user.name}` });
}
