/**
 * Whether a local socket may be trusted with the user's registry
 * credentials (docs/security.md, "Which daemon gets your credentials").
 *
 * A socket is only as trustworthy as whoever could have put it there: it
 * must be a socket (not a symlink to one) owned by root or by this user, and
 * neither it nor any directory above it may be replaceable by someone else —
 * every directory on the way is owned by root or this user and not writable
 * by group or others, unless it is sticky (as /tmp is: others cannot rename or
 * remove what root or this user put there). Checked just before a request
 * that carries credentials (pull, push, login); any other call may go to a
 * socket the user picked, since it reveals nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { permissionDenied } from '../errdefs/errdefs';

export interface TrustFacts {
  readonly uid: number;
  lstat(p: string): Pick<fs.Stats, 'uid' | 'mode' | 'isSocket' | 'isSymbolicLink' | 'isDirectory'>;
  realpath(p: string): string;
}

const hostFacts = (): TrustFacts => ({
  uid: process.geteuid?.() ?? 0,
  lstat: (p) => fs.lstatSync(p),
  realpath: (p) => fs.realpathSync(p),
});

/** Why `socket` must not receive credentials, or undefined when it may. */
export function socketDistrust(socket: string, facts: TrustFacts = hostFacts()): string | undefined {
  const trusted = (uid: number) => uid === 0 || uid === facts.uid;
  const who = facts.uid === 0 ? 'root' : `root or uid ${facts.uid}`;
  let stat;
  try {
    stat = facts.lstat(socket);
  } catch (e) {
    return `cannot check ${socket}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (stat.isSymbolicLink()) return `${socket} is a symbolic link`;
  if (!stat.isSocket()) return `${socket} is not a socket`;
  if (!trusted(stat.uid)) return `${socket} belongs to uid ${stat.uid}, not ${who}`;
  let dir: string;
  try {
    // A symlinked parent (/var/run → /run) is judged by where it leads.
    dir = facts.realpath(path.dirname(path.resolve(socket)));
  } catch (e) {
    return `cannot check the directory of ${socket}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  for (;;) {
    const d = facts.lstat(dir);
    if (!trusted(d.uid)) return `${dir} (above ${socket}) belongs to uid ${d.uid}, not ${who}`;
    if ((d.mode & 0o022) !== 0 && (d.mode & 0o1000) === 0) {
      return `${dir} (above ${socket}) is writable by ${d.mode & 0o002 ? 'others' : 'its group'} and not sticky`;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Throws PermissionDenied, naming the reason, when `socket` must not receive credentials. */
export function assertCredentialSafe(socket: string, facts?: TrustFacts): void {
  const reason = socketDistrust(socket, facts);
  if (reason) {
    throw permissionDenied(
      `refusing to send registry credentials to ${socket}: ${reason}; another user could be listening there. Use a daemon socket owned by root or by you (docs/security.md)`,
    );
  }
}
