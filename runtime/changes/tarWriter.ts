/**
 * Writes filesystem entries into a tar stream (tar-stream's pack) as layer
 * and export tars need them: every file type a layer can carry, owners,
 * modes, mtimes, hardlinks (a second name of an inode already written
 * becomes a link entry), and extended attributes as PAX `SCHILY.xattr.*`
 * records. PAX headers are written here, byte-exact: tar-stream's own
 * encoder counts characters, not bytes, and would corrupt binary values
 * such as security.capability and names that are not ASCII.
 */
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';

/** tar-stream's header argument, with the PAX header type its typings leave out. */
type Header = Omit<Partial<tar.Header>, 'type'> & { name: string; type?: tar.Header['type'] | 'pax-header' };
import { isOverlayPrivate } from './xattrDump';

/** ustar's name field holds 100 bytes; longer names go in a PAX `path` record. */
const USTAR_NAME_MAX = 100;

export class TarWriter {
  readonly pack = tar.pack();
  /** dev:ino of a multiply-linked file → the name it was first written under. */
  private readonly links = new Map<string, string>();

  /** Adds `abs` (lstat'ed as `st`) under `name` (no leading slash; directories get a trailing one). */
  async add(name: string, abs: string, st: fs.Stats, xattrs?: ReadonlyMap<string, Buffer>): Promise<void> {
    const base: Header = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    const records = xattrRecords(xattrs);
    if (st.isFile() && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.entry({ ...base, type: 'link', linkname: first, size: 0 }, records);
      this.links.set(key, name);
    }
    if (st.isDirectory()) return this.entry({ ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' }, records);
    if (st.isSymbolicLink()) {
      return this.entry({ ...base, type: 'symlink', linkname: await fs.promises.readlink(abs) }, records);
    }
    if (st.isFIFO()) return this.entry({ ...base, type: 'fifo' }, records);
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      return this.entry(
        { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor },
        records,
      );
    }
    if (!st.isFile()) return; // a socket: nothing a tar can carry
    await this.entry({ ...base, type: 'file', size: st.size }, records, abs);
  }

  /** An OCI whiteout: an empty file named `.wh.NAME` (or `.wh..wh..opq`). */
  addMarker(name: string): Promise<void> {
    return this.write({ name, type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }, Buffer.alloc(0));
  }

  finalize(): void {
    this.pack.finalize();
  }

  private async entry(header: Header, records: Array<[string, Buffer]>, file?: string): Promise<void> {
    const nameBytes = Buffer.byteLength(header.name);
    const linkBytes = header.linkname ? Buffer.byteLength(header.linkname) : 0;
    const ascii = (s: string | undefined) => !s || /^[\x20-\x7e]*$/.test(s);
    if (records.length || nameBytes >= USTAR_NAME_MAX || linkBytes >= USTAR_NAME_MAX || !ascii(header.name) || !ascii(header.linkname)) {
      const pax: Array<[string, Buffer]> = [['path', Buffer.from(header.name)], ...records];
      if (header.linkname) pax.push(['linkpath', Buffer.from(header.linkname)]);
      await this.write({ name: 'PaxHeader', type: 'pax-header', mode: 0o644, mtime: header.mtime }, encodePax(pax));
      // The PAX path wins; the ustar fields only need to be valid.
      header = { ...header, name: shortName(header.name), ...(header.linkname ? { linkname: shortName(header.linkname) } : {}) };
    }
    // A file entry without data waits for its content: an empty one is given it.
    if (file === undefined) return this.write(header, header.type === 'file' ? Buffer.alloc(0) : undefined);
    let settle!: (e?: Error | null) => void;
    const done = new Promise<void>((resolve, reject) => (settle = (e) => (e ? reject(e) : resolve())));
    const sink = this.pack.entry(header as tar.Header, (e) => settle(e));
    await pipeline(fs.createReadStream(file), sink as unknown as NodeJS.WritableStream);
    await done;
  }

  private write(header: Header, data?: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cb = (e?: Error | null) => (e ? reject(e) : resolve());
      if (data) this.pack.entry(header as tar.Header, data, cb);
      else this.pack.entry(header as tar.Header, cb);
    });
  }
}

function xattrRecords(xattrs: ReadonlyMap<string, Buffer> | undefined): Array<[string, Buffer]> {
  if (!xattrs) return [];
  return [...xattrs].filter(([k]) => !isOverlayPrivate(k)).map(([k, v]) => [`SCHILY.xattr.${k}`, v]);
}

/** PAX records "LEN KEY=VALUE\n", LEN counting its own digits, in bytes. */
export function encodePax(records: ReadonlyArray<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len)), body);
  }
  return Buffer.concat(parts);
}

function shortName(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length < USTAR_NAME_MAX ? ascii : ascii.slice(ascii.length - (USTAR_NAME_MAX - 1));
}

/** glibc's major()/minor(). */
function splitDev(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev);
  return {
    major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & 0xfffff000n)),
    minor: Number((r & 0xffn) | ((r >> 12n) & 0xffffff00n)),
  };
}
