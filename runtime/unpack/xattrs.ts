/**
 * Extended attributes of layer entries: reading them from PAX headers
 * (`SCHILY.xattr.NAME`, binary-safe), deciding which a layer may set, and
 * setting them in one `setfattr --restore` per layer (Node has no xattr
 * calls; one process per layer instead of one per file).
 */
import { spawn } from 'node:child_process';
import { failedPrecondition, internal, invalidArgument } from '../errdefs/errdefs';

const SCHILY_XATTR = 'SCHILY.xattr.';

/**
 * Makes a tar-stream extractor decode PAX records binary-safe.
 *
 * tar-stream decodes PAX values as UTF-8, which mangles binary xattr values
 * such as security.capability. This replaces its PAX decoding (an internal
 * of tar-stream 3.x, checked here so an upgrade that moves it fails loudly)
 * with one that keeps every value as a latin1 "byte string" — one char per
 * byte — like the names the extractor is told to decode with latin1. Global
 * PAX headers are ignored, as containerd does.
 */
export function binarySafePax(extract: object): void {
  const ex = extract as {
    _header: { type: string } | null;
    _pax: Record<string, string> | null;
    _decodeLongHeader?: (buf: Buffer) => void;
  };
  const original = ex._decodeLongHeader;
  if (typeof original !== 'function' || !('_pax' in ex)) {
    throw internal('tar-stream internals changed: cannot decode PAX headers binary-safe');
  }
  ex._decodeLongHeader = function (this: typeof ex, buf: Buffer) {
    switch (this._header?.type) {
      case 'pax-header':
        this._pax = decodePax(buf);
        return;
      case 'pax-global-header':
        return;
      default:
        return original.call(this, buf);
    }
  };
}

/** PAX records ("LEN KEY=VALUE\n"), keys and values as latin1 byte strings. */
export function decodePax(buf: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number.parseInt(buf.toString('latin1', pos, space), 10);
    if (!(len > 0) || pos + len > buf.length) break;
    const record = buf.subarray(space + 1, pos + len - 1); // drop the trailing "\n"
    const eq = record.indexOf(0x3d);
    if (eq > 0) records[record.toString('latin1', 0, eq)] = record.toString('latin1', eq + 1);
    pos += len;
  }
  return records;
}

export interface Xattr {
  readonly name: string;
  readonly value: Buffer;
}

export type XattrTarget = 'file' | 'directory' | 'symlink' | 'other';

/**
 * The xattrs a layer entry may set, from its PAX records: security.capability,
 * user.* (on files and directories only — the kernel allows no others) and,
 * when root, trusted.* — never trusted.overlay.* or user.overlay.* (overlayfs's
 * own metadata: a layer that sets it could redirect or hide paths of other
 * layers). Others
 * (security.selinux, system.*) are dropped, as are names that are not UTF-8
 * or hold "=" or control characters.
 */
export function xattrsOf(pax: Record<string, string> | null | undefined, target: XattrTarget, rootless: boolean): Xattr[] {
  if (!pax) return [];
  const out: Xattr[] = [];
  for (const key of Object.keys(pax)) {
    if (!key.startsWith(SCHILY_XATTR)) continue;
    const name = utf8OrNull(key.slice(SCHILY_XATTR.length));
    // setfattr's dump format cannot carry "=" in a name (nor can a sane layer need it).
    if (name === null || /[=\x00-\x1f]/.test(name) || !allowed(name, target, rootless)) continue;
    out.push({ name, value: Buffer.from(pax[key], 'latin1') });
  }
  return out;
}

function allowed(name: string, target: XattrTarget, rootless: boolean): boolean {
  if (name.startsWith('user.overlay.')) return false; // overlayfs's own, under the userxattr option
  if (name.startsWith('user.')) return target === 'file' || target === 'directory';
  if (rootless) return false;
  if (name === 'security.capability') return true;
  return name.startsWith('trusted.') && !name.startsWith('trusted.overlay.');
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A latin1 byte string decoded as UTF-8; null when the bytes are not UTF-8. */
export function utf8OrNull(bytes: string): string | null {
  if (/^[\x00-\x7f]*$/.test(bytes)) return bytes;
  try {
    return fatalUtf8.decode(Buffer.from(bytes, 'latin1'));
  } catch {
    return null;
  }
}

/** The kernel's limit for one value (XATTR_SIZE_MAX): a larger one could never be set. */
export const XATTR_VALUE_MAX = 64 * 1024;
/** What one entry may carry in all: far above any real image, which sets a capability or a label. */
export const XATTR_ENTRY_MAX = 256 * 1024;
/**
 * What one layer may hold pending (it is all set at the end of the layer):
 * the bound on the memory a hostile layer can make gantryd hold, where
 * thousands of entries with multi-MiB PAX xattrs would otherwise pile up.
 */
export const XATTR_LAYER_MAX = 16 * 1024 * 1024;

/**
 * Pending xattrs of one layer, keyed by absolute path, set together by
 * `commit`. Entries replaced or removed later in the layer are dropped with
 * `drop`, so nothing is set on a path that now holds something else. A
 * layer over the limits above is refused (InvalidArgument) when the entry
 * that crosses them is read, before anything is kept of it.
 */
export class XattrBatch {
  private readonly byPath = new Map<string, Xattr[]>();
  /** Bytes of names and values added this layer (drops do not give them back: the cap is on the layer). */
  private bytes = 0;

  get size(): number {
    return this.byPath.size;
  }

  add(absPath: string, xattrs: readonly Xattr[], entryName?: string): void {
    if (xattrs.length === 0) return;
    const what = entryName === undefined ? absPath : `layer entry ${JSON.stringify(entryName)}`;
    let entryBytes = 0;
    for (const x of xattrs) {
      if (x.value.length > XATTR_VALUE_MAX) {
        throw invalidArgument(`${what}: extended attribute ${x.name} is ${x.value.length} bytes; at most ${XATTR_VALUE_MAX} can be set`);
      }
      entryBytes += Buffer.byteLength(x.name) + x.value.length;
    }
    if (entryBytes > XATTR_ENTRY_MAX) {
      throw invalidArgument(`${what}: extended attributes of ${entryBytes} bytes; at most ${XATTR_ENTRY_MAX} per entry`);
    }
    if (this.bytes + entryBytes > XATTR_LAYER_MAX) {
      throw invalidArgument(`${what}: the layer's extended attributes exceed ${XATTR_LAYER_MAX} bytes; refusing the layer`);
    }
    this.bytes += entryBytes;
    const list = this.byPath.get(absPath);
    if (list) list.push(...xattrs);
    else this.byPath.set(absPath, [...xattrs]);
  }

  /** Forget `absPath` and, when `subtree`, everything below it. */
  drop(absPath: string, subtree: boolean): void {
    this.byPath.delete(absPath);
    if (!subtree) return;
    const prefix = absPath + '/';
    for (const key of this.byPath.keys()) if (key.startsWith(prefix)) this.byPath.delete(key);
  }

  /** The `getfattr --dump` text that `setfattr --restore` reads. */
  dump(): string {
    const lines: string[] = [];
    for (const [file, xattrs] of this.byPath) {
      lines.push(`# file: ${escapeName(file)}`);
      for (const x of xattrs) lines.push(`${escapeName(x.name)}=0s${x.value.toString('base64')}`);
      lines.push('');
    }
    return lines.join('\n') + '\n';
  }

  /**
   * Sets every pending xattr, never following symlinks (`-h`). Fails with
   * FailedPrecondition when setfattr is missing, Internal when it fails.
   */
  async commit(signal: AbortSignal, setfattr = 'setfattr'): Promise<void> {
    if (this.byPath.size === 0) return;
    await runWithInput(setfattr, ['-h', '--restore=-'], this.dump(), signal, 'set extended attributes');
    this.byPath.clear();
  }
}

/** Octal-escape every byte that the dump format would misread (as getfattr does). */
function escapeName(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (const b of bytes) {
    const printable = b > 0x20 && b < 0x7f && b !== 0x5c /* \ */ && b !== 0x3d /* = */ && b !== 0x22; /* " */
    out += printable ? String.fromCharCode(b) : '\\' + b.toString(8).padStart(3, '0');
  }
  return out;
}

/**
 * Runs a helper tool with `input` on stdin; rejects with its stderr when it
 * exits non-zero, FailedPrecondition when it is not installed.
 */
export function runWithInput(
  cmd: string,
  args: readonly string[],
  input: Buffer | string,
  signal: AbortSignal,
  what: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], signal, env: options.env ?? process.env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (stderr.length < 8192) stderr += s;
    });
    child.stdin.on('error', () => undefined); // EPIPE when the tool exits early; its status tells
    child.once('error', (e) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') reject(failedPrecondition(`${what}: ${cmd} is not installed`, e));
      else reject(e);
    });
    child.once('close', (code, sig) => {
      if (code === 0) resolve();
      else reject(internal(`${what}: ${cmd} failed (${sig ?? `exit ${code}`}): ${stderr.trim()}`));
    });
    child.stdin.end(input);
  });
}
