/**
 * A directory only its owner can use: a non-root gantryd's state dir (its
 * socket, runc state, conmon files) lives in one (docs/rootless.md). Another
 * local user must not be able to pre-create it, swap in a symlink, or read
 * it: it is created with mode 0700 and then checked with lstat (no symlink
 * followed) — owned by us, a real directory, mode exactly 0700. A path that
 * fails the check is refused, never repaired: fixing the mode of a directory
 * someone else made would hand them our socket.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { failedPrecondition } from '../errdefs/errdefs';

export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` (and missing parents, 0700) when absent, then verifies it.
 * `uid`: the owner it must have (default: ours).
 */
export function ensurePrivateDir(dir: string, uid = process.getuid?.() ?? 0): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    fs.mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const problem = privateDirProblem(dir, uid);
  if (problem) throw failedPrecondition(problem);
}

/** Why `dir` is not a private directory of `uid` (a sentence naming the fix), or undefined when it is. */
export function privateDirProblem(dir: string, uid: number): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (e) {
    return `${dir} cannot be checked: ${(e as Error).message}`;
  }
  const fix = `remove it (or have its owner remove it) and start gantryd again, or set XDG_RUNTIME_DIR / --state to a directory of your own`;
  if (stat.isSymbolicLink()) return `${dir} is a symbolic link, not a directory gantryd made: refusing to use it; ${fix}`;
  if (!stat.isDirectory()) return `${dir} is not a directory: refusing to use it; ${fix}`;
  if (stat.uid !== uid)
    return `${dir} is owned by uid ${stat.uid}, not by uid ${uid}: another user may have created it; refusing to use it; ${fix}`;
  const mode = stat.mode & 0o7777;
  if (mode !== PRIVATE_DIR_MODE) {
    return `${dir} has mode ${mode.toString(8).padStart(4, '0')}, not 0700: others could reach the socket in it; refusing to use it; ${fix}`;
  }
  return undefined;
}
