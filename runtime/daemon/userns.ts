/**
 * `gantry daemon --userns-remap default|USER[:GROUP]`, as dockerd's: every
 * container runs in a user namespace whose root is the first ID of USER's
 * subordinate ranges (/etc/subuid, /etc/subgid; GROUP's for gids when
 * given). `default` uses the user `gantry`, created when missing (a system
 * user with no home, no login shell and no group of its own — a `gantry`
 * group would open the API socket to it) together with a 65536-ID range
 * after every range already in the files, as dockerd does for `dockremap`.
 *
 * Only the first range of each file is used: container IDs 0…size-1 map to
 * it (one mapping line, like Docker with a single range).
 *
 * Errors: InvalidArgument for a malformed value, FailedPrecondition when the
 * user or group does not exist or has no subordinate range.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import type { IdMap } from '../oci/specgen/privileges';
import { subIdRanges } from '../util/subIds';

const run = promisify(execFile);

export const DEFAULT_REMAP_USER = 'gantry';
const DEFAULT_RANGE_SIZE = 65536;
const FIRST_SUBORDINATE_ID = 100000;

// The subordinate-ID file format is shared with the rootless start (daemon/rootless/prerequisites.ts).
export { subIdRanges, type SubIdRange } from '../util/subIds';

/** The first ID after every range of the file (at least 100000): where a new range goes. */
export function nextFreeId(text: string): number {
  let next = FIRST_SUBORDINATE_ID;
  for (const line of text.split('\n')) {
    const [, start, size] = line.trim().split(':');
    const end = Number(start) + Number(size);
    if (Number.isSafeInteger(end) && end > next) next = end;
  }
  return next;
}

/** `default`, `USER` or `USER:GROUP` → names; InvalidArgument otherwise. */
export function parseRemapValue(value: string): { user: string; group?: string } {
  const m = /^([a-z_][a-z0-9_.-]*\$?|\d+)(?::([a-z_][a-z0-9_.-]*\$?|\d+))?$/i.exec(value);
  if (!m) throw invalidArgument(`invalid --userns-remap ${JSON.stringify(value)}: want default, USER or USER:GROUP`);
  return m[1] === 'default' && !m[2] ? { user: DEFAULT_REMAP_USER } : { user: m[1], group: m[2] };
}

const readOrEmpty = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw e;
  }
};

async function lookup(db: 'passwd' | 'group', key: string): Promise<{ name: string; id: number } | undefined> {
  try {
    const { stdout } = await run('getent', [db, key]);
    const [name, , id] = stdout.trim().split(':');
    return { name, id: Number(id) };
  } catch {
    return undefined;
  }
}

/** Creates the `gantry` user and its subordinate ranges when missing. */
async function ensureDefaultUser(subuid: string, subgid: string): Promise<void> {
  if (!(await lookup('passwd', DEFAULT_REMAP_USER))) {
    await run('useradd', [
      '--system',
      '--no-create-home',
      '--no-user-group',
      '--gid',
      'nogroup',
      '--shell',
      '/usr/sbin/nologin',
      DEFAULT_REMAP_USER,
    ]);
  }
  for (const file of [subuid, subgid]) {
    const text = readOrEmpty(file);
    if (subIdRanges(text, DEFAULT_REMAP_USER).length) continue;
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    fs.appendFileSync(file, `${sep}${DEFAULT_REMAP_USER}:${nextFreeId(text)}:${DEFAULT_RANGE_SIZE}\n`);
  }
}

export interface RemapFiles {
  readonly subuid: string;
  readonly subgid: string;
}

/** The daemon's mapping for a `--userns-remap` value (rules in the file comment). */
export async function resolveUsernsRemap(
  value: string,
  files: RemapFiles = { subuid: '/etc/subuid', subgid: '/etc/subgid' },
): Promise<IdMap> {
  const wanted = parseRemapValue(value);
  if (wanted.user === DEFAULT_REMAP_USER && !wanted.group) await ensureDefaultUser(files.subuid, files.subgid);
  const user = await lookup('passwd', wanted.user);
  if (!user) throw failedPrecondition(`--userns-remap: no user ${JSON.stringify(wanted.user)}`);
  const group = wanted.group === undefined ? user : await lookup('group', wanted.group);
  if (!group) throw failedPrecondition(`--userns-remap: no group ${JSON.stringify(wanted.group)}`);
  const [uids] = subIdRanges(readOrEmpty(files.subuid), user.name, user.id);
  const [gids] = subIdRanges(readOrEmpty(files.subgid), group.name, group.id);
  if (!uids) throw failedPrecondition(`--userns-remap: ${user.name} has no subordinate uid range in ${files.subuid}`);
  if (!gids) throw failedPrecondition(`--userns-remap: ${group.name} has no subordinate gid range in ${files.subgid}`);
  return { uid: uids.start, gid: gids.start, size: Math.min(uids.size, gids.size) };
}
