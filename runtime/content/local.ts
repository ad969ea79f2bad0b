/**
 * The local content store: plain files under `<root>/content`.
 *
 *   blobs/<alg>/<hex>            committed blobs, read-only (0444)
 *   ingest/<sha256(ref)>/data    bytes of an ingest in progress
 *   ingest/<sha256(ref)>/meta    {ref, total, expected, startedAt}
 *   labels/<alg>/<hex>.json      labels of committed blobs
 *
 * See content.ts for the lifecycle and guarantees. Every digest is validated
 * before it becomes part of a path, so no caller can name a file outside
 * these directories.
 *
 * Free space (options.reserve, see util/diskspace.ts): a writer with an
 * expected size is refused up front when the rest of the blob would eat into
 * the reserve, and every writer checks again every few MiB. Either way, and
 * on a full disk (ENOSPC, EDQUOT), writes fail with ResourceExhausted and the
 * partial ingest is kept for a resume, like any interrupted download.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';
import { alreadyExists, dataLoss, invalidArgument, notFound, resourceExhausted, unavailable } from '../errdefs/errdefs';
import { isDigest } from '../oci/descriptor';
import { fsyncDir, writeFileAtomic } from '../util/atomicfile';
import type { Info, IngestStatus, Store, Writer, WriterOptions } from './content';
import { readdirOrEmpty } from '../util/files';
import { formatIec, type DiskReserve, type SpaceMeter } from '../util/diskspace';

const DEFAULT_INGEST_EXPIRY_MS = 24 * 60 * 60 * 1000;

interface IngestMeta {
  ref: string;
  total: number;
  expected?: string;
  startedAt: string;
}

export interface LocalStoreOptions {
  /** Partial ingests untouched for longer are removed at start-up. */
  ingestExpiryMs?: number;
  /** Free space to leave on the store's filesystem (default: none checked). */
  reserve?: DiskReserve;
}

export class LocalStore implements Store {
  private readonly locked = new Set<string>();
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  private readonly labelsDir: string;

  private constructor(
    readonly root: string,
    private readonly reserve: DiskReserve | undefined,
  ) {
    this.blobsDir = path.join(root, 'blobs');
    this.ingestDir = path.join(root, 'ingest');
    this.labelsDir = path.join(root, 'labels');
  }

  /** Opens (creating) the store and removes expired or half-created ingests. */
  static async open(root: string, options: LocalStoreOptions = {}): Promise<LocalStore> {
    const store = new LocalStore(root, options.reserve);
    for (const dir of [store.blobsDir, store.ingestDir, store.labelsDir]) {
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    }
    await store.cleanIngests(options.ingestExpiryMs ?? DEFAULT_INGEST_EXPIRY_MS);
    return store;
  }

  // ── Provider ──────────────────────────────────────────────────────────

  async read(_ctx: Ctx, digest: string): Promise<Readable> {
    const file = this.blobPath(digest);
    try {
      const handle = await fs.promises.open(file, 'r');
      return handle.createReadStream({ highWaterMark: 1 << 20 });
    } catch (e) {
      throw this.missing(e, digest);
    }
  }

  async readAll(_ctx: Ctx, digest: string, maxBytes: number): Promise<Buffer> {
    const file = this.blobPath(digest);
    let size: number;
    try {
      size = (await fs.promises.stat(file)).size;
    } catch (e) {
      throw this.missing(e, digest);
    }
    if (size > maxBytes) throw resourceExhausted(`blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`);
    return fs.promises.readFile(file);
  }

  // ── Manager ───────────────────────────────────────────────────────────

  async info(_ctx: Ctx, digest: string): Promise<Info> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(this.blobPath(digest));
    } catch (e) {
      throw this.missing(e, digest);
    }
    return { digest, size: stat.size, createdAt: stat.mtime, labels: await this.readLabels(digest) };
  }

  async setLabels(ctx: Ctx, digest: string, labels: Record<string, string>): Promise<Info> {
    await this.info(ctx, digest);
    await this.writeLabels(digest, labels);
    return this.info(ctx, digest);
  }

  async walk(ctx: Ctx, fn: (info: Info) => void | Promise<void>): Promise<void> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const hex of await readdirOrEmpty(path.join(this.blobsDir, algorithm))) {
        const digest = `${algorithm}:${hex}`;
        if (!isDigest(digest)) continue; // not ours; never touched
        let info: Info;
        try {
          info = await this.info(ctx, digest);
        } catch {
          continue; // deleted while walking
        }
        await fn(info);
      }
    }
  }

  async delete(_ctx: Ctx, digest: string): Promise<void> {
    try {
      await fs.promises.unlink(this.blobPath(digest));
    } catch (e) {
      throw this.missing(e, digest);
    }
    await fs.promises.rm(this.labelsPath(digest), { force: true });
  }

  // ── Ingester / IngestManager ──────────────────────────────────────────

  async writer(_ctx: Ctx, options: WriterOptions): Promise<Writer> {
    const { ref, expected } = options;
    if (!ref) throw invalidArgument('an ingest needs a ref');
    if (expected && !isDigest(expected.digest)) throw invalidArgument(`invalid digest "${expected.digest}"`);
    if (this.locked.has(ref)) throw unavailable(`ref "${ref}" is locked by another writer`);
    this.locked.add(ref);
    try {
      const dir = this.ingestPath(ref);
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const metaFile = path.join(dir, 'meta');
      let meta = await readJson<IngestMeta>(metaFile);
      if (!meta || meta.ref !== ref || (expected && meta.expected && meta.expected !== expected.digest)) {
        // New ingest, or a leftover for different content: start clean.
        await fs.promises.rm(path.join(dir, 'data'), { force: true });
        meta = { ref, total: expected?.size ?? 0, expected: expected?.digest, startedAt: new Date().toISOString() };
        // Bookkeeping for resumes only, so no fsync: if a crash loses or tears
        // it, the ingest is simply started again (nothing unverified is ever
        // published, whatever this file says).
        await fs.promises.writeFile(metaFile, JSON.stringify(meta), { mode: 0o600 });
      }
      const algorithm = (expected?.digest ?? meta.expected ?? 'sha256:').split(':')[0];
      const doing = `writing blob ${expected?.digest ?? meta.expected ?? ref}`;
      const writer = await IngestWriter.open(this, dir, ref, algorithm, this.reserve?.meter(dir, doing), () => this.locked.delete(ref));
      if (expected && this.reserve) {
        const rest = expected.size - writer.offset;
        await this.reserve.check(dir, rest, `${doing} (${formatIec(rest)} more)`).catch(async (e: unknown) => {
          await writer.close();
          throw e;
        });
      }
      return writer;
    } catch (e) {
      this.locked.delete(ref);
      throw e;
    }
  }

  async status(_ctx: Ctx, ref: string): Promise<IngestStatus> {
    const status = await this.readStatus(this.ingestPath(ref));
    if (!status || status.ref !== ref) throw notFound(`no ingest "${ref}"`);
    return status;
  }

  async listStatuses(_ctx: Ctx): Promise<IngestStatus[]> {
    const statuses: IngestStatus[] = [];
    for (const name of await readdirOrEmpty(this.ingestDir)) {
      const status = await this.readStatus(path.join(this.ingestDir, name));
      if (status) statuses.push(status);
    }
    return statuses;
  }

  async abort(ctx: Ctx, ref: string): Promise<void> {
    await this.status(ctx, ref);
    if (this.locked.has(ref)) throw unavailable(`ref "${ref}" is being written`);
    await fs.promises.rm(this.ingestPath(ref), { recursive: true, force: true });
  }

  // ── internals shared with IngestWriter ────────────────────────────────

  /** Moves a verified ingest file into place. */
  async publish(dataFile: string, digest: string, labels: Record<string, string> | undefined): Promise<void> {
    const target = this.blobPath(digest);
    await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    if (await exists(target)) throw alreadyExists(`content ${digest} already exists`);
    await fs.promises.chmod(dataFile, 0o444);
    await fs.promises.rename(dataFile, target);
    await fsyncDir(path.dirname(target));
    if (labels && Object.keys(labels).length) await this.writeLabels(digest, labels);
  }

  blobPath(digest: string): string {
    if (!isDigest(digest)) throw invalidArgument(`invalid digest "${digest}"`);
    const [algorithm, hex] = digest.split(':');
    return path.join(this.blobsDir, algorithm, hex);
  }

  private labelsPath(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    return path.join(this.labelsDir, algorithm, `${hex}.json`);
  }

  private ingestPath(ref: string): string {
    return path.join(this.ingestDir, createHash('sha256').update(ref).digest('hex'));
  }

  private async readLabels(digest: string): Promise<Record<string, string>> {
    return (await readJson<Record<string, string>>(this.labelsPath(digest))) ?? {};
  }

  private async writeLabels(digest: string, labels: Record<string, string>): Promise<void> {
    const file = this.labelsPath(digest);
    await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, JSON.stringify(labels), 0o600);
  }

  private async readStatus(dir: string): Promise<IngestStatus | undefined> {
    const meta = await readJson<IngestMeta>(path.join(dir, 'meta'));
    if (!meta) return undefined;
    let offset = 0;
    let updatedAt = new Date(meta.startedAt);
    try {
      const stat = await fs.promises.stat(path.join(dir, 'data'));
      offset = stat.size;
      updatedAt = stat.mtime;
    } catch {
      // no bytes yet
    }
    return { ref: meta.ref, offset, total: meta.total, expected: meta.expected, startedAt: new Date(meta.startedAt), updatedAt };
  }

  private async cleanIngests(expiryMs: number): Promise<void> {
    const now = Date.now();
    for (const name of await readdirOrEmpty(this.ingestDir)) {
      const dir = path.join(this.ingestDir, name);
      const status = await this.readStatus(dir);
      if (!status || now - status.updatedAt.getTime() > expiryMs) {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    }
  }

  private missing(e: unknown, digest: string): Error {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return notFound(`content ${digest}: not found`);
    return e as Error;
  }
}

class IngestWriter implements Writer {
  private closed = false;

  private constructor(
    private readonly store: LocalStore,
    private readonly dir: string,
    private readonly ref: string,
    private readonly algorithm: string,
    private handle: fs.promises.FileHandle,
    private hash: Hash,
    private written: number,
    private readonly meter: SpaceMeter | undefined,
    private readonly release: () => void,
  ) {}

  static async open(
    store: LocalStore,
    dir: string,
    ref: string,
    algorithm: string,
    meter: SpaceMeter | undefined,
    release: () => void,
  ): Promise<IngestWriter> {
    if (algorithm !== 'sha256' && algorithm !== 'sha512') throw invalidArgument(`unsupported digest algorithm ${algorithm}`);
    const dataFile = path.join(dir, 'data');
    // Resume: re-hash what an earlier writer left (a hash state cannot be persisted).
    const hash = createHash(algorithm);
    let written = 0;
    if (await exists(dataFile)) {
      for await (const chunk of fs.createReadStream(dataFile, { highWaterMark: 1 << 20 })) {
        hash.update(chunk as Buffer);
        written += (chunk as Buffer).length;
      }
    }
    const handle = await fs.promises.open(dataFile, 'a', 0o600);
    return new IngestWriter(store, dir, ref, algorithm, handle, hash, written, meter, release);
  }

  get offset(): number {
    return this.written;
  }

  digest(): string {
    return `${this.algorithm}:${this.hash.copy().digest('hex')}`;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen();
    const room = this.meter?.wrote(chunk.length);
    if (room) await room;
    let done = 0;
    try {
      while (done < chunk.length) {
        const { bytesWritten } = await this.handle.write(chunk, done, chunk.length - done);
        done += bytesWritten;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw e;
      // The bytes of this chunk that made it stay out of the count: the next writer (a resume) re-reads the file.
      throw resourceExhausted(`writing blob ${this.ref}: ${(e as Error).message}`, e);
    }
    this.hash.update(chunk);
    this.written += chunk.length;
  }

  async truncate(): Promise<void> {
    this.assertOpen();
    await this.handle.truncate(0);
    this.hash = createHash(this.algorithm);
    this.written = 0;
  }

  async commit(size: number, digest: string, labels?: Record<string, string>): Promise<void> {
    this.assertOpen();
    try {
      const actual = this.digest();
      if (this.written !== size || actual !== digest) {
        await this.discard();
        throw dataLoss(
          this.written !== size
            ? `content size mismatch for ${digest}: expected ${size} bytes, got ${this.written}`
            : `content digest mismatch: expected ${digest}, got ${actual} (${size} bytes)`,
        );
      }
      await this.handle.sync();
      await this.handle.close();
      try {
        await this.store.publish(path.join(this.dir, 'data'), digest, labels);
      } finally {
        await fs.promises.rm(this.dir, { recursive: true, force: true });
      }
    } finally {
      this.finish();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.handle.close();
    } finally {
      this.finish();
    }
  }

  private async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`writer for "${this.ref}" is closed`);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
