/**
 * Who the container's process runs as: `--user` (or the image's User)
 * resolved against the container's own /etc/passwd and /etc/group, with the
 * rules of runc/moby's `user.GetExecUser`, which Docker uses:
 *
 * | spec          | uid                        | gid                         | additional gids          |
 * |---------------|----------------------------|-----------------------------|--------------------------|
 * | '' (unset)    | 0                          | passwd entry of uid 0, or 0 | groups listing root      |
 * | `name`        | passwd entry (must exist)  | its passwd gid              | groups listing the name  |
 * | `uid`         | uid (entry optional)       | its passwd gid, or 0        | groups listing its name  |
 * | `…:group`     | as above                   | group entry (must exist)    | none                     |
 * | `…:gid`       | as above                   | gid (entry optional)        | none                     |
 *
 * With supplemental groups (CRI) the last column follows their policy
 * instead: `merge` lists the user's groups whatever the group part says,
 * `strict` none; their gids are added either way.
 *
 * The first matching line wins. Numeric ids need no files at all; a name
 * that is not found, or a missing passwd file with a name, fails with
 * Docker's wording ("unable to find user NAME: no matching entries in
 * passwd file"). `home` is the passwd home, else "/" (what runc sets HOME
 * to). Malformed lines (non-numeric ids) are skipped rather than read as
 * id 0 the way Go's parser does.
 *
 * The files are read with readFileInRoot: symlinks in the image cannot
 * make us read a host file.
 */
import { invalidArgument } from '../../errdefs/errdefs';
import { readFileInRoot } from './rootfile';

/**
 * A CRI container's supplemental groups (containers.ts): `gids` are added;
 * `merge` also takes the image's groups listing the user even when a group
 * was named, `strict` none of them.
 */
export interface SupplementalGroups {
  readonly gids: readonly number[];
  readonly policy: 'merge' | 'strict';
}

export interface ResolvedUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups from /etc/group membership (without the primary gid). */
  readonly additionalGids: readonly number[];
  /** Home directory from passwd; "/" when the user has no entry. */
  readonly home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

/** A numeric id (Go's Atoi accepts a sign), range-checked; undefined for a name. */
function numericId(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (!(n >= 0 && n <= MAX_ID)) throw invalidArgument(`uids and gids must be in range 0-${MAX_ID}: ${JSON.stringify(s)}`);
  return n;
}

const isId = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);

/** Lines of a colon-separated database, trimmed, without blanks and comments. */
function records(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of records(text)) {
    if (!isId(f[2]) || !isId(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of records(text)) {
    if (!isId(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

async function readDb(rootfs: string, file: string): Promise<string | null> {
  const bytes = await readFileInRoot(rootfs, file);
  return bytes === null ? null : bytes.toString('utf8');
}

/**
 * Resolves `user` (`name`, `uid`, `name:group`, `uid:gid`, `name:gid`,
 * `uid:group`; '' or undefined = root) in the container rooted at `rootfs`.
 * InvalidArgument for an unknown name or group, an out-of-range id or more
 * than one colon. Missing files are fine as long as no name must be found.
 */
export async function resolveUser(rootfs: string, user: string | undefined, supplemental?: SupplementalGroups): Promise<ResolvedUser> {
  const spec = user ?? '';
  const parts = spec.split(':');
  if (parts.length > 2) throw invalidArgument(`invalid user ${JSON.stringify(spec)}: want name|uid[:group|gid]`);
  const [userArg, groupArg = ''] = parts;
  const uidArg = numericId(userArg);
  const gidArg = groupArg === '' ? undefined : numericId(groupArg);

  const passwdText = await readDb(rootfs, '/etc/passwd');
  const passwd = passwdText === null ? [] : parsePasswd(passwdText);
  const entry = passwd.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));

  let uid = 0;
  let gid = 0;
  let home = '/';
  if (entry) {
    ({ uid, gid } = entry);
    home = entry.home || '/';
  } else if (userArg !== '') {
    if (uidArg === undefined) throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = uidArg;
  }

  let additionalGids: number[] = [];
  const merge = supplemental?.policy === 'merge';
  if (groupArg !== '' || entry) {
    const groupText = await readDb(rootfs, '/etc/group');
    const groups = groupText === null ? [] : parseGroup(groupText);
    if (groupArg !== '') {
      const g = groups.find((x) => (gidArg !== undefined ? x.gid === gidArg : x.name === groupArg));
      if (g) gid = g.gid;
      else if (gidArg !== undefined) gid = gidArg;
      else throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`);
    }
    if (entry && (merge || (groupArg === '' && !supplemental))) {
      additionalGids = groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid);
    }
  }
  if (supplemental) additionalGids = [...new Set([...additionalGids, ...supplemental.gids])];
  return { uid, gid, additionalGids, home };
}
