// Hand-crafted tar layers for the unpack tests, hostile ones included.
//
// Headers are written byte by byte here rather than with tar-stream's pack:
// pack encodes PAX values as UTF-8 (binary xattrs such as
// security.capability would be mangled), always adds a "/" to directory
// names, and cannot declare a size that differs from the data that follows —
// all things these tests need to control exactly.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';

export type EntryType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  name: string | Buffer;
  type?: EntryType;
  /** A raw typeflag character instead of `type` (e.g. 'S' for GNU sparse). */
  typeflag?: string;
  content?: string | Buffer;
  /** Header size when it must differ from the content length (hostile). */
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch (default 1_700_000_000). */
  mtime?: number;
  linkname?: string | Buffer;
  devmajor?: number;
  devminor?: number;
  /** SCHILY.xattr.NAME records. */
  xattrs?: Record<string, string | Buffer>;
  /** Extra PAX records, written verbatim. */
  pax?: Record<string, string | Buffer>;
  /** How to store a name longer than 100 bytes: PAX "path" (default) or a GNU 'L' entry. */
  longName?: 'pax' | 'gnu';
}

const TYPEFLAG: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const DEFAULT_MTIME = 1_700_000_000;

/** A complete tar (entries, then two zero blocks unless `end: false`). */
export function buildTar(entries: readonly TarEntry[], opts: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) parts.push(...encodeEntry(e));
  if (opts.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function encodeEntry(e: TarEntry): Buffer[] {
  const out: Buffer[] = [];
  const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name);
  const linkname = e.linkname === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.linkname) ? e.linkname : Buffer.from(e.linkname);
  const content = e.content === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
  const pax: [string, Buffer][] = [];
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push([`SCHILY.xattr.${k}`, Buffer.isBuffer(v) ? v : Buffer.from(v)]);
  for (const [k, v] of Object.entries(e.pax ?? {})) pax.push([k, Buffer.isBuffer(v) ? v : Buffer.from(v)]);
  let headerName = name;
  if (name.length > 100) {
    if (e.longName === 'gnu') {
      out.push(header({ name: Buffer.from('././@LongLink'), typeflag: 'L', size: name.length + 1 }));
      out.push(pad(Buffer.concat([name, Buffer.alloc(1)])));
    } else {
      pax.push(['path', name]);
    }
    headerName = name.subarray(0, 100);
  }
  let headerLink = linkname;
  if (linkname.length > 100) {
    pax.push(['linkpath', linkname]);
    headerLink = linkname.subarray(0, 100);
  }
  const uid = e.uid ?? 0;
  const gid = e.gid ?? 0;
  if (uid > 0o7777777) pax.push(['uid', Buffer.from(String(uid))]);
  if (gid > 0o7777777) pax.push(['gid', Buffer.from(String(gid))]);
  if (pax.length > 0) {
    const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
    out.push(header({ name: Buffer.from('PaxHeaders/entry'), typeflag: 'x', size: body.length }));
    out.push(pad(body));
  }
  const typeflag = e.typeflag ?? TYPEFLAG[e.type ?? 'file'];
  out.push(
    header({
      name: headerName,
      typeflag,
      size: e.size ?? content.length,
      mode: e.mode ?? (e.type === 'dir' ? 0o755 : 0o644),
      uid: Math.min(uid, 0o7777777),
      gid: Math.min(gid, 0o7777777),
      mtime: e.mtime ?? DEFAULT_MTIME,
      linkname: headerLink,
      devmajor: e.devmajor,
      devminor: e.devminor,
    }),
  );
  if (content.length > 0) out.push(pad(content));
  return out;
}

export interface RawHeader {
  name: Buffer;
  typeflag: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
}

/** One 512-byte header, as is (for streaming hostile entries without building them whole). */
export function rawHeader(h: RawHeader): Buffer {
  return header(h);
}

function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  h.name.copy(b, 0, 0, Math.min(100, h.name.length));
  octal(b, 100, 8, h.mode ?? 0o644);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  if (h.size > 0o77777777777) {
    // base-256 for sizes that do not fit 11 octal digits
    b[124] = 0x80;
    let n = h.size;
    for (let i = 135; i > 124; i--) {
      b[i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else {
    octal(b, 124, 12, h.size);
  }
  octal(b, 136, 12, Math.max(0, Math.floor(h.mtime ?? DEFAULT_MTIME)));
  b.write(h.typeflag, 156, 'latin1');
  h.linkname?.copy(b, 157, 0, Math.min(100, h.linkname.length));
  b.write('ustar\u000000', 257, 'latin1');
  octal(b, 329, 8, h.devmajor ?? 0);
  octal(b, 337, 8, h.devminor ?? 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 'latin1');
  return b;
}

function octal(b: Buffer, at: number, len: number, n: number): void {
  b.write(n.toString(8).padStart(len - 1, '0') + '\u0000', at, 'latin1');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function pad(b: Buffer): Buffer {
  const rest = b.length % 512;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - rest)]);
}

export function gzip(tar: Buffer): Buffer {
  return zlib.gzipSync(tar);
}

/** zstd via the zstd CLI (Debian package `zstd`). */
export function zstd(tar: Buffer, level = 3): Buffer {
  const r = spawnSync('zstd', [`-${level}`, '-q', '-c'], { input: tar, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return r.stdout;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export const MEDIA = {
  tar: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** A layer in the three encodings, with its DiffID. */
export function layerOf(entries: readonly TarEntry[]): { tar: Buffer; diffId: string } {
  const tar = buildTar(entries);
  return { tar, diffId: sha256(tar) };
}

const MiB = 1024 * 1024;
let zeroMember: Buffer | undefined;

/**
 * A compression bomb: a gzip layer whose files are all zeros, `files` of
 * `mib` MiB each (e.g. one of 4096 MiB, or 4096 of 1 MiB), a few MB however
 * large it expands. Built from concatenated gzip members (a valid gzip
 * stream), so neither the tar nor its compression is ever held whole. The
 * DiffID is hashed over the same zeros (seconds for gigabytes) unless `hash`
 * is false (a placeholder: for tests where the layer never gets to its end).
 */
export function zeroBomb(files: number, mib: number, hash = true): { gz: Buffer; diffId: string } {
  const zeros = Buffer.alloc(MiB);
  zeroMember ??= zlib.gzipSync(zeros, { level: 9 });
  const parts: Buffer[] = [];
  const digest = hash ? createHash('sha256') : undefined;
  for (let i = 0; i < files; i++) {
    const h = header({ name: Buffer.from(`zero${i}`), typeflag: '0', size: mib * MiB, mtime: DEFAULT_MTIME });
    digest?.update(h);
    parts.push(zlib.gzipSync(h));
    for (let m = 0; m < mib; m++) {
      digest?.update(zeros);
      parts.push(zeroMember);
    }
  }
  digest?.update(Buffer.alloc(1024));
  parts.push(zlib.gzipSync(Buffer.alloc(1024)));
  return { gz: Buffer.concat(parts), diffId: `sha256:${digest?.digest('hex') ?? 'f'.repeat(64)}` };
}
