/**
 * Who gantryd runs as, from the host's point of view: whether it is rootless
 * (no host root), and the names of the users and groups a socket belongs to.
 * Used by the daemon's Version answer and by `gantry doctor`
 * (docs/service.md).
 */
import * as fs from 'node:fs';

/** The identity map a process in the host's user namespace has: 0 → 0 for every id. */
const FULL_MAP = /^\s*0\s+0\s+4294967295\s*$/;

/**
 * True when this process has no root on the host: it is not uid 0, or it is
 * uid 0 of a user namespace (rootless gantryd under RootlessKit) whose map is
 * not the host's identity map.
 */
export function runsRootless(uidMap = readUidMap(), euid = process.geteuid?.() ?? 0): boolean {
  if (euid !== 0) return true;
  if (uidMap === undefined) return false;
  return !FULL_MAP.test(uidMap.trim());
}

function readUidMap(): string | undefined {
  try {
    return fs.readFileSync('/proc/self/uid_map', 'utf8');
  } catch {
    return undefined;
  }
}

/** A `name:x:id:…` database (/etc/passwd, /etc/group) as id → name and name → id. */
function readIdFile(file: string): Array<{ name: string; id: number; members: string[] }> {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'))
      .filter((f) => f.length >= 3 && /^\d+$/.test(f[2]))
      .map((f) => ({ name: f[0], id: Number(f[2]), members: f[3] && file.endsWith('group') ? f[3].split(',').filter(Boolean) : [] }));
  } catch {
    return [];
  }
}

export function groupName(gid: number): string | undefined {
  return readIdFile('/etc/group').find((g) => g.id === gid)?.name;
}

export function userName(uid: number): string | undefined {
  return readIdFile('/etc/passwd').find((u) => u.id === uid)?.name;
}

/**
 * The group a socket (or any file) is shared with: its group when the mode
 * lets the group connect and it is not the owner's own primary group (root's
 * `root`, a rootless user's own group: sharing with nobody else).
 */
export function sharingGroup(file: string, ownGid = process.getegid?.() ?? 0): string {
  try {
    const stat = fs.lstatSync(file);
    if ((stat.mode & 0o020) === 0 || stat.gid === ownGid) return '';
    return groupName(stat.gid) ?? String(stat.gid);
  } catch {
    return '';
  }
}
