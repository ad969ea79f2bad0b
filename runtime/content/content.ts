/**
 * Content: the content-addressed blob store (modelled on containerd's
 * core/content/content.go).
 *
 * Lifecycle of a blob
 *   1. An *ingest* starts with `writer(ctx, {ref, expected})`. `ref` names
 *      the ingest (one writer per ref at a time: a second one fails with
 *      Unavailable "ref locked"). Bytes go to a private ingest file and are
 *      hashed as they arrive. An ingest that already exists under `ref` is
 *      *resumed*: its bytes are re-hashed and `writer.offset` says where to
 *      continue (an HTTP Range request, for instance).
 *   2. `writer.commit(size, digest)` checks that exactly `size` bytes hashing
 *      to `digest` were written, fsyncs them, renames the file to
 *      `blobs/<alg>/<hex>` and fsyncs the directory. Only now is the blob
 *      visible to `info`, `read` and `walk`. A failed check removes the
 *      ingest (its bytes are wrong; resuming would only repeat the failure)
 *      and fails with DataLoss. Committing content that already exists
 *      fails with AlreadyExists and discards the ingest; callers treat that
 *      as success.
 *   3. `writer.close()` releases the ref lock and keeps the partial ingest for
 *      a later resume; `abort(ref)` deletes it.
 *
 * Guarantees: the bytes of a visible blob always hash to its name, whatever
 * moment the daemon is killed at (rename is atomic; nothing is renamed before
 * verification). Partial ingests survive restarts and are resumed; ingests
 * older than the expiry are removed at start-up.
 *
 * Labels (e.g. for GC hints) are kept beside, never inside, the blobs.
 */
import type { Readable } from 'node:stream';
import type { Ctx } from '../context';

export interface Info {
  readonly digest: string;
  readonly size: number;
  readonly createdAt: Date;
  readonly labels: Readonly<Record<string, string>>;
}

export interface IngestStatus {
  readonly ref: string;
  /** Bytes written so far. */
  readonly offset: number;
  /** Expected total size, when the writer was told (0 = unknown). */
  readonly total: number;
  readonly expected?: string;
  readonly startedAt: Date;
  readonly updatedAt: Date;
}

export interface WriterOptions {
  readonly ref: string;
  /** Expected digest and size, recorded for status and checked again at commit. */
  readonly expected?: { digest: string; size: number };
}

export interface Writer {
  /** Bytes written (including those of a resumed ingest). */
  readonly offset: number;
  /** Digest of the bytes written so far. */
  digest(): string;
  /** Appends bytes; resolves once they are in the ingest file. */
  write(chunk: Uint8Array): Promise<void>;
  /** Discards everything written and starts over at offset 0 (the server ignored a Range request). */
  truncate(): Promise<void>;
  /** Verifies, fsyncs and makes the blob visible. Always releases the writer, even when it fails. */
  commit(size: number, digest: string, labels?: Record<string, string>): Promise<void>;
  /** Releases the ref lock, keeping partial data for a resume. Idempotent. */
  close(): Promise<void>;
}

export interface Provider {
  /** Streams a committed blob. NotFound when absent. */
  read(ctx: Ctx, digest: string): Promise<Readable>;
  /** Reads a small committed blob whole (manifests, configs); refuses blobs over maxBytes. */
  readAll(ctx: Ctx, digest: string, maxBytes: number): Promise<Buffer>;
}

export interface Ingester {
  writer(ctx: Ctx, options: WriterOptions): Promise<Writer>;
}

export interface IngestManager {
  status(ctx: Ctx, ref: string): Promise<IngestStatus>;
  listStatuses(ctx: Ctx): Promise<IngestStatus[]>;
  /** Deletes a partial ingest. NotFound when there is none. */
  abort(ctx: Ctx, ref: string): Promise<void>;
}

export interface Manager {
  /** NotFound when absent. */
  info(ctx: Ctx, digest: string): Promise<Info>;
  /** Replaces a blob's labels. */
  setLabels(ctx: Ctx, digest: string, labels: Record<string, string>): Promise<Info>;
  /** Every committed blob. Cost: one stat per blob. */
  walk(ctx: Ctx, fn: (info: Info) => void | Promise<void>): Promise<void>;
  /** Removes a committed blob. NotFound when absent. */
  delete(ctx: Ctx, digest: string): Promise<void>;
}

export interface Store extends Provider, Ingester, IngestManager, Manager {}
