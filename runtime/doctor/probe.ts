/**
 * What `gantry doctor` may look at on a host (docs/service.md, "gantry
 * doctor"): a small interface, so the decision table (checks.ts) runs over a
 * fake in unit tests and, later, over what the SSH probe reports.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface FileFacts {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits with setuid/setgid/sticky (stat.mode & 0o7777). */
  readonly mode: number;
  readonly kind: 'file' | 'dir' | 'socket' | 'symlink' | 'char' | 'other';
}

export interface DoctorProbe {
  readonly uid: number;
  readonly user: string;
  /** Supplementary and primary gids. */
  readonly gids: readonly number[];
  readonly env: NodeJS.ProcessEnv;
  /** `uname -r`: "6.1.0-18-amd64". */
  readonly kernel: string;
  /** The first executable `name` on env.PATH, or undefined. */
  which(name: string): string | undefined;
  readFile(file: string): string | undefined;
  /** lstat, undefined when missing or unreadable. */
  stat(file: string): FileFacts | undefined;
  /** This user could open `file` for reading and writing. */
  canReadWrite(file: string): boolean;
}

function kindOf(st: fs.Stats): FileFacts['kind'] {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  return 'other';
}

/** This host, as the current user sees it; `env` (PATH above all) can be another's. */
export function hostProbe(env: NodeJS.ProcessEnv = process.env): DoctorProbe {
  const uid = process.geteuid?.() ?? 0;
  return {
    uid,
    user: os.userInfo().username,
    gids: [...new Set([...(process.getgroups?.() ?? []), process.getegid?.() ?? 0])],
    env,
    kernel: os.release(),
    which(name) {
      for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
        const file = path.join(dir, name);
        try {
          fs.accessSync(file, fs.constants.X_OK);
          if (fs.statSync(file).isFile()) return file;
        } catch {
          // not here
        }
      }
      return undefined;
    },
    readFile(file) {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    },
    stat(file) {
      try {
        const st = fs.lstatSync(file);
        return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, kind: kindOf(st) };
      } catch {
        return undefined;
      }
    },
    canReadWrite(file) {
      try {
        fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}
