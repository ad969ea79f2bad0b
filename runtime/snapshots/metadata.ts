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
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { alreadyExists, dataLoss, errorOf, failedPrecondition, invalidArgument, notFound } from '../errdefs/errdefs';
import { writeFileAtomic } from '../util/atomicfile';
import type { Info } from './snapshots';

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
      if (doc.version !== 1)
        throw failedPrecondition(`snapshot metadata ${store.file} has version ${String(doc.version)}; this gantryd reads version 1`);
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
    for (let name = parent; name;) {
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
      if (active.kind !== 'active')
        throw failedPrecondition(`snapshot ${key} is a ${active.kind} snapshot, not active; only active snapshots can be committed`);
      if (next.has(name)) throw alreadyExists(`snapshot ${name} already exists`);
      if (labels) checkLabels(labels);
      const now = new Date();
      const record: SnapshotRecord = {
        ...active,
        kind: 'committed',
        name,
        labels: { ...(labels ?? active.labels) },
        createdAt: now,
        updatedAt: now,
      };
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
        throw failedPrecondition(
          `snapshot ${name} has ${children.length} child snapshot(s) (${children.slice(0, 3).join(', ')}${children.length > 3 ? ', …' : ''}); remove them first`,
        );
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
  if (parentId !== undefined && p.id !== parentId)
    throw aborted(`parent snapshot ${parent} was replaced while ${key} was being created; try again`);
}

function checkLabels(labels: Record<string, string>): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!key || typeof value !== 'string') throw invalidArgument(`label ${JSON.stringify(key)} needs a non-empty key and a string value`);
    if (Buffer.byteLength(key) + Buffer.byteLength(value) > MAX_LABEL_BYTES) {
      throw invalidArgument(`label ${key} is longer than ${MAX_LABEL_BYTES} bytes`);
    }
  }
}
