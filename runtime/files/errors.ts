/**
 * System errors of file operations as Gantry errors whose messages name the
 * path as the container sees it (never the host path behind it).
 */
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  isGantryError,
  notFound,
  permissionDenied,
  resourceExhausted,
  type GantryError,
} from '../errdefs/errdefs';

export function fileError(e: unknown, path: string, what: string): GantryError {
  if (isGantryError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const where = `${what} ${path}`;
  switch (code) {
    case 'ENOENT':
      return notFound(`${where}: no such file or directory`, e);
    case 'EEXIST':
      return alreadyExists(`${where}: file exists`, e);
    case 'ENOTDIR':
      return failedPrecondition(`${where}: not a directory`, e);
    case 'EISDIR':
      return failedPrecondition(`${where}: is a directory`, e);
    case 'ENOTEMPTY':
      return failedPrecondition(`${where}: directory not empty`, e);
    case 'ELOOP':
      return invalidArgument(`${where}: too many levels of symbolic links`, e);
    case 'EROFS':
      return failedPrecondition(`${where}: read-only file system`, e);
    case 'EXDEV':
      return failedPrecondition(`${where}: source and destination are on different mounts`, e);
    case 'EACCES':
    case 'EPERM':
      return permissionDenied(`${where}: permission denied`, e);
    case 'ENOSPC':
    case 'EDQUOT':
      return resourceExhausted(`${where}: no space left on device`, e);
    case 'ENAMETOOLONG':
      return invalidArgument(`${where}: file name too long`, e);
    default:
      return failedPrecondition(`${where}: ${(e as Error | undefined)?.message ?? String(e)}`, e);
  }
}
