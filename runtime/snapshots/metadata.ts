/**
 * Snapshot records, shared by the overlayfs and native snapshotters (what
 * containerd's core/snapshots/storage/metastore.go is to its snapshotters).
 *
 * On disk, under a snapshotter's root:
 *
 *   metadata.json          {version, nextId, snapshots: [{id, kind, name,
 *                           parent, labels, createdAt, updatedAt}]}
 *   snapshots/<id>/        one directory per snapshot; what is inside is the
 *                           implementation's business (fs/, work/)
 *   snapshots/new-<rand>/  a snapshot being created, renamed to <id> inside
 *                           the same change that writes its record
 *
 * Every record is held in memory; each change builds the next state, writes
 * the whole document atomically (temp file, fsync, rename, fsync dir) and only
 * then makes it visible, so readers never see a state that is not on disk and
 * a failed write changes nothing. Changes run one at a time through a
 * promise chain. Ids are numeric and never reused: `nextId` is persisted, and
 * on open it is moved past any directory left under snapshots/ (a crash can
 * leave a directory whose record was never written).
 *
 * The order of effects keeps a crash harmless: a new snapshot's directory is
 * in place before its record is written, and a removed snapshot's record is
 * gone before its directory is deleted. Either way a crash can leave only a
 * directory without a record, which `cleanup` deletes.
 *
 * Below the store, `LocalSnapshotter` is everything the two snapshotters
 * share (checks, commit, remove, walk, usage, cleanup); they differ only in
 * what a new snapshot's directory holds and how it is mounted.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import {
  alreadyExists,
  dataLoss,
  describe,
  errorOf,
  failedPrecondition,
  internal,
  invalidArgument,
  isNotFound,
  notFound,
} from '../errdefs/errdefs';
import type { Mount } from '../mount/mount';
import { unmountAll } from '../mount/mounter';
import { fsyncDir, writeFileAtomic } from '../util/atomicfile';
import { silentLogger, type Logger } from '../util/log';
import type { Info, SnapshotOptions, Snapshotter, Usage } from './snapshots';

export interface SnapshotRecord extends Info {
  /** Names the snapshot's directory: `snapshots/<id>`. Never reused. */
  readonly id: number;
}

interface StoredRecord extends Omit<SnapshotRecord, 'createdAt' | 'updatedAt'> {
  createdAt: string;
  updatedAt: string;
}

interface StoredDocument {
  version: number;
  nextId: number;
  snapshots: StoredRecord[];
}

/** containerd's limit for one label (key + value). */
const MAX_LABEL_BYTES = 4096;

const aborted = errorOf('Aborted');

export interface CreateRequest {
  readonly kind: 'active' | 'view';
  readonly key: string;
  readonly parent: string;
  readonly labels?: Record<string, string>;
  /** The parent's id when the caller read its files: a different id now means it was replaced meanwhile. */
  readonly parentId?: number;
}

export class MetaStore {
  private records = new Map<string, SnapshotRecord>();
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  readonly snapshotsDir: string;
  private readonly file: string;

  private constructor(readonly root: string) {
    this.snapshotsDir = path.join(root, 'snapshots');
    this.file = path.join(root, 'metadata.json');
  }

  static async open(root: string): Promise<MetaStore> {
    const store = new MetaStore(root);
    await fs.promises.mkdir(store.snapshotsDir, { recursive: true, mode: 0o700 });
    let doc: StoredDocument | undefined;
    let text: string | undefined;
    try {
      text = await fs.promises.readFile(store.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      try {
        doc = JSON.parse(text) as StoredDocument;
      } catch (e) {
        throw dataLoss(`snapshot metadata ${store.file} is not valid JSON`, e);
      }
      if (doc.version !== 1) throw failedPrecondition(`snapshot metadata ${store.file} has version ${String(doc.version)}; this gantryd reads version 1`);
    }
    let maxId = 0;
    for (const s of doc?.snapshots ?? []) {
      store.records.set(s.name, { ...s, createdAt: new Date(s.createdAt), updatedAt: new Date(s.updatedAt) });
      maxId = Math.max(maxId, s.id);
    }
    for (const entry of await fs.promises.readdir(store.snapshotsDir)) {
      if (/^\d+$/.test(entry)) maxId = Math.max(maxId, Number(entry));
    }
    store.nextId = Math.max(doc?.nextId ?? 1, maxId + 1);
    return store;
  }

  get(name: string): SnapshotRecord | undefined {
    return this.records.get(name);
  }

  /** NotFound when absent. */
  require(name: string): SnapshotRecord {
    const record = this.records.get(name);
    if (!record) throw notFound(`snapshot ${name}: not found`);
    return record;
  }

  list(): SnapshotRecord[] {
    return [...this.records.values()];
  }

  /** `parent` and its ancestors, nearest first; [] for ''. */
  chain(parent: string): SnapshotRecord[] {
    const result: SnapshotRecord[] = [];
    for (let name = parent; name; ) {
      const record = this.require(name);
      result.push(record);
      name = record.parent;
    }
    return result;
  }

  dir(id: number): string {
    return path.join(this.snapshotsDir, String(id));
  }

  /** The checks `create` makes, for failing fast before expensive work. */
  checkCreate(key: string, parent: string, labels?: Record<string, string>, parentId?: number): void {
    checkCreate(this.records, key, parent, labels, parentId);
  }

  /**
   * Adds an active snapshot or view. `place(id)` runs inside the change,
   * after the checks and before the record is written: it puts the
   * snapshot's directory at `dir(id)`. If writing the record fails, that
   * directory is the caller's to remove.
   */
  create(req: CreateRequest, place: (id: number) => Promise<void>): Promise<SnapshotRecord> {
    return this.change(async (next) => {
      checkCreate(next, req.key, req.parent, req.labels, req.parentId);
      const id = this.nextId++;
      await place(id);
      const now = new Date();
      const record: SnapshotRecord = {
        id,
        kind: req.kind,
        name: req.key,
        parent: req.parent,
        labels: { ...req.labels },
        createdAt: now,
        updatedAt: now,
      };
      next.set(req.key, record);
      return record;
    });
  }

  /**
   * Turns active `key` into committed `name`, keeping its id (no data moves).
   * Labels given replace the active snapshot's; otherwise they carry over.
   */
  commit(key: string, name: string, labels?: Record<string, string>): Promise<SnapshotRecord> {
    return this.change(async (next) => {
      if (!name) throw invalidArgument('a committed snapshot needs a name');
      const active = next.get(key);
      if (!active) throw notFound(`snapshot ${key}: not found`);
      if (active.kind !== 'active') throw failedPrecondition(`snapshot ${key} is a ${active.kind} snapshot, not active; only active snapshots can be committed`);
      if (next.has(name)) throw alreadyExists(`snapshot ${name} already exists`);
      if (labels) checkLabels(labels);
      const now = new Date();
      const record: SnapshotRecord = { ...active, kind: 'committed', name, labels: { ...(labels ?? active.labels) }, createdAt: now, updatedAt: now };
      next.delete(key);
      next.set(name, record);
      return record;
    });
  }

  setLabels(name: string, labels: Record<string, string>): Promise<SnapshotRecord> {
    return this.change(async (next) => {
      const current = next.get(name);
      if (!current) throw notFound(`snapshot ${name}: not found`);
      checkLabels(labels);
      const record = { ...current, labels: { ...labels }, updatedAt: new Date() };
      next.set(name, record);
      return record;
    });
  }

  /** Deletes the record (not the directory). FailedPrecondition while children exist. */
  remove(name: string): Promise<SnapshotRecord> {
    return this.change(async (next) => {
      const record = next.get(name);
      if (!record) throw notFound(`snapshot ${name}: not found`);
      const children = [...next.values()].filter((r) => r.parent === name).map((r) => r.name);
      if (children.length > 0) {
        throw failedPrecondition(`snapshot ${name} has ${children.length} child snapshot(s) (${children.slice(0, 3).join(', ')}${children.length > 3 ? ', …' : ''}); remove them first`);
      }
      next.delete(name);
      return record;
    });
  }

  /** Runs `fn` while no change is in progress (records and directories agree). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(fn);
  }

  /** Waits for pending changes; later changes fail with FailedPrecondition. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  private change<T>(fn: (next: Map<string, SnapshotRecord>) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(failedPrecondition('the snapshotter is closed'));
    return this.serial(async () => {
      const next = new Map(this.records);
      const result = await fn(next);
      const snapshots = [...next.values()].map(toStored);
      const doc: StoredDocument = { version: 1, nextId: this.nextId, snapshots };
      await writeFileAtomic(this.file, JSON.stringify(doc), 0o600);
      this.records = next;
      return result;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function toStored(r: SnapshotRecord): StoredRecord {
  return { ...r, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}

function checkCreate(
  records: ReadonlyMap<string, SnapshotRecord>,
  key: string,
  parent: string,
  labels: Record<string, string> | undefined,
  parentId: number | undefined,
): void {
  if (!key) throw invalidArgument('a snapshot needs a key');
  if (records.has(key)) throw alreadyExists(`snapshot ${key} already exists`);
  if (labels) checkLabels(labels);
  if (!parent) return;
  const p = records.get(parent);
  if (!p) throw notFound(`parent snapshot ${parent}: not found`);
  if (p.kind !== 'committed') throw invalidArgument(`parent ${parent} is a ${p.kind} snapshot; a parent must be committed`);
  if (parentId !== undefined && p.id !== parentId) throw aborted(`parent snapshot ${parent} was replaced while ${key} was being created; try again`);
}

function checkLabels(labels: Record<string, string>): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!key || typeof value !== 'string') throw invalidArgument(`label ${JSON.stringify(key)} needs a non-empty key and a string value`);
    if (Buffer.byteLength(key) + Buffer.byteLength(value) > MAX_LABEL_BYTES) {
      throw invalidArgument(`label ${key} is longer than ${MAX_LABEL_BYTES} bytes`);
    }
  }
}

// ── the part of a snapshotter that does not depend on the layout ────────

export interface LocalSnapshotterOptions {
  /**
   * Key prefixes of snapshots whose creator does not survive a restart (the
   * unpacker's 'extract-' keys): `cleanup` removes active snapshots and views
   * with such keys. Others (a container's rootfs) are kept.
   */
  readonly transientPrefixes?: readonly string[];
  readonly log?: Logger;
}

/**
 * A snapshotter keeping each snapshot in `snapshots/<id>/` with its records
 * in a MetaStore. Subclasses say what a new snapshot's directory holds
 * (`populate`) and how it is mounted (`mountsOf`).
 */
export abstract class LocalSnapshotter implements Snapshotter {
  abstract readonly name: string;
  protected readonly log: Logger;
  private readonly transientPrefixes: readonly string[];
  /** new-<rand> directories being populated right now; cleanup leaves them alone. */
  private readonly creating = new Set<string>();

  protected constructor(
    readonly root: string,
    protected readonly meta: MetaStore,
    options: LocalSnapshotterOptions,
  ) {
    this.log = options.log ?? silentLogger;
    this.transientPrefixes = options.transientPrefixes ?? [];
  }

  /** Fills `dir` (which does not exist yet) for a new snapshot over `parents` (nearest first). */
  protected abstract populate(dir: string, kind: 'active' | 'view', parents: readonly SnapshotRecord[], signal: AbortSignal): Promise<void>;

  /** The mounts of an active snapshot or view. */
  protected abstract mountsOf(record: SnapshotRecord, parents: readonly SnapshotRecord[]): Mount[];

  /** Refuses, before anything is created, a snapshot the implementation could not mount. */
  protected checkParents(_key: string, _parents: readonly SnapshotRecord[]): void {}

  /** The directory holding a snapshot's own files. */
  protected fsDir(record: SnapshotRecord): string {
    return path.join(this.meta.dir(record.id), 'fs');
  }

  async stat(_ctx: Ctx, key: string): Promise<Info> {
    return toInfo(this.meta.require(key));
  }

  async setLabels(_ctx: Ctx, key: string, labels: Record<string, string>): Promise<Info> {
    return toInfo(await this.meta.setLabels(key, labels));
  }

  async usage(ctx: Ctx, key: string): Promise<Usage> {
    return diskUsage(this.fsDir(this.meta.require(key)), ctx.signal);
  }

  async mounts(_ctx: Ctx, key: string): Promise<Mount[]> {
    const record = this.meta.require(key);
    if (record.kind === 'committed') throw failedPrecondition(`snapshot ${key} is committed; only active snapshots and views have mounts`);
    return this.mountsOf(record, this.meta.chain(record.parent));
  }

  prepare(ctx: Ctx, key: string, parent: string, options?: SnapshotOptions): Promise<Mount[]> {
    return this.create(ctx, 'active', key, parent, options);
  }

  view(ctx: Ctx, key: string, parent: string, options?: SnapshotOptions): Promise<Mount[]> {
    return this.create(ctx, 'view', key, parent, options);
  }

  async commit(_ctx: Ctx, name: string, key: string, options?: SnapshotOptions): Promise<void> {
    await this.meta.commit(key, name, options?.labels);
  }

  async remove(_ctx: Ctx, key: string): Promise<void> {
    const record = await this.meta.remove(key);
    try {
      await removeTree(this.meta.dir(record.id));
    } catch (e) {
      // The record is gone, so the snapshot is; cleanup retries the directory.
      this.log.warn('snapshot directory not removed; cleanup will retry', { snapshot: key, dir: this.meta.dir(record.id), err: e });
    }
  }

  async walk(ctx: Ctx, fn: (info: Info) => void | Promise<void>): Promise<void> {
    for (const record of this.meta.list()) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await fn(toInfo(record));
    }
  }

  /**
   * Start-up recovery: unmounts whatever is still mounted under the root,
   * removes transient active snapshots and views, then every directory
   * under snapshots/ that has no record. Idempotent. Best effort: an item
   * that cannot be cleaned (a busy mount) is logged and skipped, and the
   * call then fails with Internal listing what was left, after doing the rest.
   */
  async cleanup(ctx: Ctx): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void>) => {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      try {
        await fn();
      } catch (e) {
        if (isNotFound(e)) return;
        problems.push(`${what}: ${describe(e)}`);
        this.log.warn('snapshot cleanup: could not clean up', { what, err: e });
      }
    };
    await attempt('unmount leftovers', async () => {
      for (const target of await unmountAll(this.root)) this.log.info('unmounted a leftover mount', { target });
    });
    for (const record of this.meta.list()) {
      if (record.kind === 'committed' || !this.transientPrefixes.some((p) => record.name.startsWith(p))) continue;
      await attempt(`snapshot ${record.name}`, async () => {
        await this.remove(ctx, record.name);
        this.log.info('removed a snapshot left by an interrupted operation', { snapshot: record.name });
      });
    }
    const orphans = await this.meta.exclusive(async () => {
      const ids = new Set(this.meta.list().map((r) => String(r.id)));
      const entries = await fs.promises.readdir(this.meta.snapshotsDir);
      return entries.filter((e) => !ids.has(e) && !this.creating.has(e));
    });
    for (const entry of orphans) {
      await attempt(`directory snapshots/${entry}`, async () => {
        await removeTree(path.join(this.meta.snapshotsDir, entry));
        this.log.info('removed a snapshot directory without a record', { dir: entry });
      });
    }
    if (problems.length > 0) throw internal(`snapshot cleanup left ${problems.length} item(s): ${problems.join('; ')}`);
  }

  /** Waits for metadata writes in flight; later changes fail. Idempotent. */
  close(): Promise<void> {
    return this.meta.close();
  }

  private async create(ctx: Ctx, kind: 'active' | 'view', key: string, parent: string, options?: SnapshotOptions): Promise<Mount[]> {
    this.meta.checkCreate(key, parent, options?.labels);
    const parents = this.meta.chain(parent);
    this.checkParents(key, parents);
    const tmpName = `new-${randomBytes(8).toString('hex')}`;
    const tmp = path.join(this.meta.snapshotsDir, tmpName);
    this.creating.add(tmpName);
    let placed: string | undefined;
    try {
      await this.populate(tmp, kind, parents, ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const record = await this.meta.create({ kind, key, parent, labels: options?.labels, parentId: parents[0]?.id }, async (id) => {
        await fs.promises.rename(tmp, this.meta.dir(id));
        placed = this.meta.dir(id);
        await fsyncDir(this.meta.snapshotsDir);
      });
      placed = undefined;
      return this.mountsOf(record, parents);
    } catch (e) {
      await removeTree(placed ?? tmp).catch((err) => this.log.warn('could not remove a half-created snapshot', { dir: placed ?? tmp, err }));
      throw e;
    } finally {
      this.creating.delete(tmpName);
    }
  }
}

export function toInfo(record: SnapshotRecord): Info {
  const { kind, name, parent, labels, createdAt, updatedAt } = record;
  return { kind, name, parent, labels: { ...labels }, createdAt, updatedAt };
}

/**
 * Deletes a snapshot directory, first unmounting anything mounted inside it
 * (so the delete can never reach through a mount into other files).
 */
export async function removeTree(dir: string): Promise<void> {
  await unmountAll(dir);
  await fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

const SLASH = Buffer.from('/');

/**
 * du-like usage of a tree: st_blocks × 512 summed and inodes counted, a
 * hardlinked inode once. Paths are handled as bytes, so names that are not
 * UTF-8 are walked too. Honours `signal` between entries.
 */
export async function diskUsage(dir: string, signal: AbortSignal): Promise<Usage> {
  const seen = new Set<string>();
  let size = 0;
  let inodes = 0;
  const stack: Buffer[] = [Buffer.from(dir)];
  while (stack.length > 0) {
    if (signal.aborted) throw signal.reason;
    const current = stack.pop()!;
    let st: fs.BigIntStats;
    try {
      st = await fs.promises.lstat(current, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // deleted while walking
      throw e;
    }
    if (st.isDirectory()) {
      let names: Buffer[] = [];
      try {
        names = await fs.promises.readdir(current, { encoding: 'buffer' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      for (const name of names) stack.push(Buffer.concat([current, SLASH, name]));
    } else if (st.nlink > 1n) {
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    size += Number(st.blocks) * 512;
    inodes++;
  }
  return { size, inodes };
}
