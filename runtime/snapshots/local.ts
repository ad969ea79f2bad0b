/**
 * LocalSnapshotter: everything the overlayfs and native snapshotters share
 * (checks, commit, remove, walk, usage, cleanup) on top of the MetaStore in
 * metadata.ts. They differ only in what a new snapshot's directory holds and
 * how it is mounted.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../context';
import { describe, failedPrecondition, internal, isNotFound } from '../errdefs/errdefs';
import type { Mount } from '../mount/mount';
import { unmountAll } from '../mount/mounter';
import { fsyncDir } from '../util/atomicfile';
import { silentLogger, type Logger } from '../util/log';
import type { Info, SnapshotOptions, Snapshotter, Usage } from './snapshots';

import { MetaStore, type SnapshotRecord } from './metadata';

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

  /**
   * The directory of a committed snapshot, for readers that never write
   * (the layer explorer, runtime/layers/): overlay keeps the layer's own
   * changes there, native the whole tree. NotFound / FailedPrecondition
   * when `name` is absent or not committed.
   */
  committedDir(name: string): string {
    const record = this.meta.require(name);
    if (record.kind !== 'committed') throw failedPrecondition(`snapshot ${name} is not committed`);
    return this.fsDir(record);
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
      await removeTree(placed ?? tmp).catch((err) =>
        this.log.warn('could not remove a half-created snapshot', { dir: placed ?? tmp, err }),
      );
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
