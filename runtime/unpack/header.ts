/**
 * Entry headers as tar-stream hands them over (names and PAX values as
 * latin1 byte strings, see xattrs.ts binarySafePax) and the metadata the
 * writer applies from them.
 */
import { invalidArgument } from '../errdefs/errdefs';
import { quoteName } from './paths';
import { utf8OrNull } from './xattrs';

/** What the writer reads of a tar-stream header (names are latin1 byte strings). */
export interface EntryHeader {
  readonly name: string;
  readonly type?: string | null;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number;
  readonly mtime?: Date;
  readonly linkname?: string | null;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly pax?: Record<string, string> | null;
}

export interface Meta {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits including set-id and sticky. */
  readonly mode: number;
  readonly atime: number;
  readonly mtime: number;
}

/** The largest uid/gid accepted ((uid_t)-1 means "no change" to chown). */
const MAX_ID = 0xfffffffe;

/** A latin1 byte string from tar-stream as text; refuses bytes that are not UTF-8. */
export function text(bytes: string, entry: string, what: string): string {
  const s = utf8OrNull(bytes);
  if (s === null) throw invalidArgument(`entry ${quoteName(entry)}: ${what} is not valid UTF-8`);
  return s;
}

export function metaOf(h: EntryHeader, name: string): Meta {
  const pax = h.pax ?? undefined;
  const uid = pax?.uid !== undefined ? Number(pax.uid) : (h.uid ?? 0);
  const gid = pax?.gid !== undefined ? Number(pax.gid) : (h.gid ?? 0);
  if (!Number.isInteger(uid) || uid < 0 || uid > MAX_ID) throw invalidArgument(`entry ${quoteName(name)}: invalid uid ${uid}`);
  if (!Number.isInteger(gid) || gid < 0 || gid > MAX_ID) throw invalidArgument(`entry ${quoteName(name)}: invalid gid ${gid}`);
  let mtime = pax?.mtime !== undefined ? Number(pax.mtime) : (h.mtime?.getTime() ?? 0) / 1000;
  if (!Number.isFinite(mtime)) mtime = 0;
  let atime = pax?.atime !== undefined ? Number(pax.atime) : mtime;
  if (!Number.isFinite(atime)) atime = mtime;
  return { uid, gid, mode: (h.mode ?? 0o644) & 0o7777, atime, mtime };
}
