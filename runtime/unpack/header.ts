/**
 * Entry headers as tar-stream hands them over (names and PAX values as
 * latin1 byte strings, see xattrs.ts binarySafePax) and the metadata the
 * writer applies from them.
 */
import { internal, invalidArgument, isGantryError } from '../errdefs/errdefs';
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

/**
 * The largest PAX header or GNU long name (link name) accepted: 1 MiB, as
 * Go's archive/tar (maxSpecialFileSize), so no layer that docker, containerd
 * or buildkit can read is refused. tar-stream itself buffers such a header
 * whole before decoding it, up to 4 MiB.
 */
export const LONG_HEADER_MAX = 1024 * 1024;

const LONG_HEADER_KINDS: Readonly<Record<string, string>> = {
  'pax-header': 'PAX header',
  'pax-global-header': 'PAX global header',
  'gnu-long-path': 'GNU long name',
  'gnu-long-link-path': 'GNU long link name',
};

interface ExtractInternals {
  _header: { name: string; type: string; size: number } | null;
  _longHeader: boolean;
  _consumeHeader?: () => boolean;
  _continueWrite?: (err: Error | null) => void;
}

/**
 * Makes a tar-stream extractor refuse a PAX header or GNU long name larger
 * than LONG_HEADER_MAX as soon as its 512-byte header is read — before any
 * of it is buffered — with an InvalidArgument naming it. Without this,
 * tar-stream buffers up to 4 MiB of it and refuses larger ones with a bare
 * "Header exceeds max size". Hooks internals of tar-stream 3.x, checked here
 * so an upgrade that moves them fails loudly.
 */
export function capLongHeaders(extract: object): void {
  const ex = extract as ExtractInternals;
  const consume = ex._consumeHeader;
  const cont = ex._continueWrite;
  if (typeof consume !== 'function' || typeof cont !== 'function' || !('_longHeader' in ex)) {
    throw internal('tar-stream internals changed: cannot cap the size of long headers');
  }
  const tooLarge = (self: ExtractInternals): Error | undefined => {
    const h = self._header;
    const kind = h && LONG_HEADER_KINDS[h.type];
    if (!self._longHeader || !kind || !(h.size > LONG_HEADER_MAX)) return undefined;
    return invalidArgument(`layer ${kind} ${quoteName(h.name)} is ${h.size} bytes; at most ${LONG_HEADER_MAX} (1 MiB) are accepted`);
  };
  ex._consumeHeader = function (this: ExtractInternals): boolean {
    const ok = consume.call(this);
    const refused = ok ? tooLarge(this) : undefined;
    if (!refused) return ok;
    cont.call(this, refused);
    return false;
  };
  // tar-stream's own refusal (over 4 MiB) comes first: name it the same way.
  ex._continueWrite = function (this: ExtractInternals, err: Error | null): void {
    cont.call(this, err && !isGantryError(err) ? (tooLarge(this) ?? err) : err);
  };
}
