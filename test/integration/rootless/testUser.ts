// An unprivileged user of its own for the rootless tests: created with
// useradd (no automatic subordinate range), given a 65536-ID subuid/subgid
// range after every range already in /etc/subuid and /etc/subgid, a HOME and
// an XDG_RUNTIME_DIR of its own under one temp dir; removed afterwards with
// its ranges, its processes and its files (docs/rootless.md, "Tests").
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nextFreeId } from '../../../runtime/daemon/userns';
import { runCommand } from '../../helpers/proc';
import { retryLocked, userEnv } from '../../helpers/unixUser';
import { makeTempDir, removeTempDir } from '../../helpers/tmp';

export const SUB_IDS = 65536;

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** First ID of its subordinate uid and gid range (the same number in both files). */
  readonly subStart: number;
  /** Holds home/ and run/; mode 0755 so the user can reach them. */
  readonly base: string;
  readonly home: string;
  /** Its XDG_RUNTIME_DIR (0700, its own). */
  readonly runtimeDir: string;
  /** The environment its processes get: a login's (unixUser.ts userEnv) with its XDG_RUNTIME_DIR. */
  readonly env: NodeJS.ProcessEnv;
}

/** The tools a rootless start needs; the reason to skip when one is missing. */
export function missingTools(): string | undefined {
  for (const [tool, pkg] of [
    ['rootlesskit', 'rootlesskit'],
    ['newuidmap', 'uidmap'],
    ['newgidmap', 'uidmap'],
    ['useradd', 'passwd'],
  ]) {
    const found = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => fs.existsSync(path.join(d, tool)));
    if (!found) return `${tool} is not installed (apt-get install ${pkg}; scripts/install-system-deps.sh)`;
  }
  return undefined;
}

/** `parent`: where its base dir goes (default: the temp dir), for callers whose temp dir the user cannot reach (an extension host's). */
export async function createTestUser(parent?: string): Promise<TestUser> {
  const name = `gtrl${crypto.randomBytes(3).toString('hex')}`;
  const base = parent ? await fs.promises.mkdtemp(path.join(parent, 'grootless-')) : await makeTempDir('grootless');
  await fs.promises.chmod(base, 0o755);
  const home = path.join(base, 'home');
  const runtimeDir = path.join(base, 'run');
  // No automatic range: the test chooses one, after all the others, in both files.
  await retryLocked(() =>
    runCommand('useradd', ['-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', '-M', '-d', home, '-s', '/bin/sh', '-U', name]),
  );
  const subStart = Math.max(nextFreeId(readOrEmpty('/etc/subuid')), nextFreeId(readOrEmpty('/etc/subgid')));
  const range = `${subStart}-${subStart + SUB_IDS - 1}`;
  await retryLocked(() => runCommand('usermod', ['--add-subuids', range, '--add-subgids', range, name]));
  const uid = Number((await runCommand('id', ['-u', name])).stdout.trim());
  const gid = Number((await runCommand('id', ['-g', name])).stdout.trim());
  for (const dir of [home, runtimeDir]) {
    await fs.promises.mkdir(dir, { mode: 0o700 });
    await fs.promises.chown(dir, uid, gid);
  }
  const env = userEnv({ name, uid, gid, home }, { XDG_RUNTIME_DIR: runtimeDir });
  return { name, uid, gid, subStart, base, home, runtimeDir, env };
}

/** Kills what is left of the user's processes (by pid), removes the user, its ranges and its files. */
export async function removeTestUser(user: TestUser): Promise<void> {
  for (const pid of processesOf(user.uid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await runCommand('usermod', [
    '--del-subuids',
    `${user.subStart}-${user.subStart + SUB_IDS - 1}`,
    '--del-subgids',
    `${user.subStart}-${user.subStart + SUB_IDS - 1}`,
    user.name,
  ]).catch(() => undefined);
  await retryLocked(() => runCommand('userdel', [user.name])).catch(() => undefined);
  await removeTempDir(user.base);
}

/** Pids of processes whose real uid is `uid` or in [from, from+count) (a container's, seen from the host). */
export function processesOf(uid: number, range?: { from: number; count: number }): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const real = statusUid(Number(entry));
    if (real === undefined) continue;
    if (real === uid || (range && real >= range.from && real < range.from + range.count)) out.push(Number(entry));
  }
  return out;
}

/** The real uid in /proc/<pid>/status, or undefined when the process is gone (or a zombie). */
export function statusUid(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+Z/m.test(status)) return undefined;
    const m = /^Uid:\s+(\d+)/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
