/**
 * What a rootless gantryd needs from the machine, checked by the parent
 * before it starts RootlessKit, so a missing piece is named with its fix
 * instead of surfacing as RootlessKit's own error (docs/rootless.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { subIdRanges, type SubIdRange } from '../../util/subIds';

/** IDs a container image may use: 0…65535 inside, so 65536 subordinate IDs besides the user's own. */
export const NEEDED_SUBORDINATE_IDS = 65536;

export interface Prerequisite {
  readonly name: string;
  readonly ok: boolean;
  /** What is wrong and how to fix it; "" when ok. */
  readonly fix: string;
}

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of `tool` on PATH (then the usual system dirs), or undefined. */
export function findTool(tool: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of [...(env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH]) {
    const candidate = path.join(dir, tool);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The user's ranges in a subordinate-ID file, by name or numeric uid. */
export function rangesOf(file: string, user: { name: string; uid: number }): SubIdRange[] {
  return subIdRanges(readOrEmpty(file), user.name, user.uid);
}

function rangeCheck(kind: 'uid' | 'gid', file: string, user: { name: string; uid: number }): Prerequisite {
  const total = rangesOf(file, user).reduce((n, r) => n + r.size, 0);
  const ok = total >= NEEDED_SUBORDINATE_IDS;
  return {
    name: `subordinate ${kind}s (${file})`,
    ok,
    fix: ok
      ? ''
      : `${user.name} has ${total} subordinate ${kind}s in ${file}, ${NEEDED_SUBORDINATE_IDS} are needed; ` +
        `as root: usermod --add-sub${kind}s START-END ${user.name} (e.g. 100000-165535, a range no other user has)`,
  };
}

function toolCheck(tool: string, pkg: string): Prerequisite {
  const ok = findTool(tool) !== undefined;
  return { name: tool, ok, fix: ok ? '' : `${tool} is not installed; as root: apt-get install ${pkg}` };
}

/** Can unprivileged users make user namespaces here? (Debian's switch, and the namespace count.) */
function usernsCheck(): Prerequisite {
  const clone = readOrEmpty('/proc/sys/kernel/unprivileged_userns_clone').trim();
  const max = readOrEmpty('/proc/sys/user/max_user_namespaces').trim();
  const ok = clone !== '0' && max !== '0';
  return {
    name: 'unprivileged user namespaces',
    ok,
    fix: ok
      ? ''
      : clone === '0'
        ? 'unprivileged user namespaces are off; as root: sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it)'
        : 'user.max_user_namespaces is 0; as root: sysctl -w user.max_user_namespaces=28633 (and in /etc/sysctl.d/ to keep it)',
  };
}

/** Every prerequisite of a rootless start for the current user. */
export function rootlessPrerequisites(user = { name: os.userInfo().username, uid: process.getuid?.() ?? 0 }): Prerequisite[] {
  return [
    toolCheck('rootlesskit', 'rootlesskit'),
    // The namespace holder (holder.ts) and how gantryd joins it.
    toolCheck('catatonit', 'catatonit'),
    toolCheck('nsenter', 'util-linux'),
    toolCheck('newuidmap', 'uidmap'),
    toolCheck('newgidmap', 'uidmap'),
    rangeCheck('uid', '/etc/subuid', user),
    rangeCheck('gid', '/etc/subgid', user),
    usernsCheck(),
  ];
}

/** /dev/net/tun can be opened by this user: slirp4netns needs it (distributions ship it 0666; some machines 0600). */
export function tunUsable(): boolean {
  try {
    fs.accessSync('/dev/net/tun', fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
