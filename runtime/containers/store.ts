/**
 * The container record store: every record in memory, each persisted as its
 * own file (`<root>/containers/<id>/container.json`) written atomically, so a
 * state change of one container costs one small fsynced write no matter how
 * many containers exist, and a daemon killed mid-write keeps the old record
 * or the new one. The container's directory also holds its log.
 *
 * Writes of one container are serialised (a later state never loses to an
 * earlier one that finished writing after it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { alreadyExists, conflict, notFound } from '../errdefs/errdefs';
import { writeFileAtomic } from '../util/atomicfile';
import type { Container } from './containers';
import type { ContainerRecords } from './serviceDeps';

const RECORD_FILE = 'container.json';

export class FileContainerStore implements ContainerRecords {
  private readonly containers = new Map<string, Container>();
  private readonly byName = new Map<string, string>();
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<FileContainerStore> {
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new FileContainerStore(dir);
    for (const id of await fs.promises.readdir(dir)) {
      let record: Container;
      try {
        record = JSON.parse(await fs.promises.readFile(path.join(dir, id, RECORD_FILE), 'utf8')) as Container;
      } catch (e) {
        // A directory without a record is what a crash during create leaves; recovery removes it.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      store.containers.set(record.id, record);
      store.byName.set(record.name, record.id);
    }
    return store;
  }

  /** Where the container's files live (record, log). */
  dirOf(id: string): string {
    return path.join(this.dir, id);
  }

  /** The container's log (container.log beside its record). */
  logPathOf(id: string): string {
    const own = this.get(id)?.config.logPath;
    if (own) return own;
    return path.join(this.dirOf(id), 'container.log');
  }

  /** Directories that hold no record (left by a crash between mkdir and the first write). */
  async orphanDirs(): Promise<string[]> {
    const entries = await fs.promises.readdir(this.dir);
    return entries.filter((id) => !this.containers.has(id)).map((id) => path.join(this.dir, id));
  }

  get(id: string): Container | undefined {
    return this.containers.get(id);
  }

  list(): Container[] {
    return [...this.containers.values()];
  }

  /**
   * Finds a container as Docker does: exact ID, exact name, then a unique ID
   * prefix. NotFound when nothing matches; Conflict when a prefix is ambiguous.
   */
  resolve(ref: string): Container {
    const trimmed = ref.startsWith('/') ? ref.slice(1) : ref;
    const exact = this.containers.get(trimmed) ?? this.containers.get(this.byName.get(trimmed) ?? '');
    if (exact) return exact;
    if (/^[a-f0-9]+$/.test(trimmed)) {
      const matches = this.list().filter((c) => c.id.startsWith(trimmed));
      if (matches.length > 1) throw conflict(`container ID prefix ${ref} is ambiguous (${matches.length} containers)`);
      if (matches.length === 1) return matches[0];
    }
    throw notFound(`no such container: ${ref}`);
  }

  /** Adds a new record; AlreadyExists when the name is taken. */
  async add(container: Container): Promise<void> {
    const holder = this.byName.get(container.name);
    if (holder) {
      throw alreadyExists(
        `the container name "/${container.name}" is already in use by container ${holder}; remove (or rename) that container to reuse the name`,
      );
    }
    // Claimed before the first await, so a concurrent add of the same name fails.
    this.containers.set(container.id, container);
    this.byName.set(container.name, container.id);
    try {
      await fs.promises.mkdir(this.dirOf(container.id), { recursive: true, mode: 0o700 });
      await this.persist(container);
    } catch (e) {
      await this.delete(container.id);
      throw e;
    }
  }

  /** Replaces the record of an existing container (NotFound when it was removed meanwhile). */
  async update(id: string, change: (current: Container) => Container): Promise<Container> {
    const current = this.containers.get(id);
    if (!current) throw notFound(`no such container: ${id}`);
    const next = change(current);
    this.containers.set(id, next);
    await this.persist(next);
    return next;
  }

  /** Forgets the record and deletes its directory (log included). Idempotent. */
  async delete(id: string): Promise<void> {
    const current = this.containers.get(id);
    if (current) {
      this.containers.delete(id);
      if (this.byName.get(current.name) === id) this.byName.delete(current.name);
    }
    await (this.writes.get(id) ?? Promise.resolve()).catch(() => undefined);
    this.writes.delete(id);
    await fs.promises.rm(this.dirOf(id), { recursive: true, force: true });
  }

  private persist(container: Container): Promise<void> {
    const file = path.join(this.dirOf(container.id), RECORD_FILE);
    const json = JSON.stringify(container);
    const previous = this.writes.get(container.id) ?? Promise.resolve();
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        // Removed while queued: writing would resurrect its directory.
        if (!this.containers.has(container.id)) return;
        await writeFileAtomic(file, json, 0o600);
      });
    this.writes.set(container.id, write);
    return write;
  }
}
