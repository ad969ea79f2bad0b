/**
 * The local driver's volumes on disk (layout and rules in volumes.ts): the
 * records in memory, each also in `<dir>/<name>/volume.json`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { alreadyExists, internal, invalidArgument, notFound } from '../errdefs/errdefs';
import { isMountPoint, mount, unmount } from '../mount/mounter';
import { volumeNameProblem } from '../options/volumeName';
import { fsyncDir, writeFileAtomic } from '../util/atomicfile';
import type { Logger } from '../util/log';
import { LOCAL_OPTION_KEYS, type CreateVolumeOptions, type VolumeRecord } from './volumes';

const RECORD = 'volume.json';
const DATA = '_data';
// Names start with [a-zA-Z0-9], so these never collide with a volume.
const TMP_PREFIX = '.tmp-';
const TRASH_PREFIX = '.trash-';

/** Refuses what the local driver does not take, naming it. */
export function checkLocalOptions(options: Readonly<Record<string, string>>): void {
  for (const key of Object.keys(options)) {
    if (!(LOCAL_OPTION_KEYS as readonly string[]).includes(key)) {
      throw invalidArgument(`invalid option key: ${JSON.stringify(key)} (the local driver takes type, device and o)`);
    }
  }
  const hasAny = Object.keys(options).length > 0;
  if (hasAny && (!options.type || !options.device)) {
    throw invalidArgument('the local driver needs both type and device to mount (e.g. --opt type=tmpfs --opt device=tmpfs)');
  }
  for (const [k, v] of Object.entries(options)) {
    if (v.includes('\0') || v.includes('\n')) throw invalidArgument(`invalid value for option ${k}`);
  }
}

export class LocalVolumeStore {
  private readonly records = new Map<string, VolumeRecord>();

  private constructor(
    readonly dir: string,
    private readonly log?: Logger,
  ) {}

  /** Loads every volume; clears half-made and half-removed ones. */
  static async open(dir: string, log?: Logger): Promise<LocalVolumeStore> {
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o711 });
    const store = new LocalVolumeStore(dir, log);
    for (const entry of await fs.promises.readdir(dir)) {
      const full = path.join(dir, entry);
      if (entry.startsWith(TMP_PREFIX) || entry.startsWith(TRASH_PREFIX)) {
        await unmount(path.join(full, DATA)).catch(() => undefined);
        await fs.promises.rm(full, { recursive: true, force: true });
        continue;
      }
      if (volumeNameProblem(entry)) continue;
      try {
        const record = JSON.parse(await fs.promises.readFile(path.join(full, RECORD), 'utf8')) as VolumeRecord;
        if (record.name !== entry) throw new Error(`record names ${record.name}`);
        store.records.set(entry, record);
      } catch (e) {
        log?.warn('volumes: skipping a directory without a valid record', { dir: full, error: e });
      }
    }
    return store;
  }

  get(name: string): VolumeRecord | undefined {
    return this.records.get(name);
  }

  /** NotFound names the volume as Docker does. */
  require(name: string): VolumeRecord {
    const r = this.records.get(name);
    if (!r) throw notFound(`no such volume: ${name}`);
    return r;
  }

  list(): VolumeRecord[] {
    return [...this.records.values()];
  }

  dataPath(name: string): string {
    return path.join(this.dir, name, DATA);
  }

  /** Makes the volume (AlreadyExists if the name is taken; the caller decides whether that is fine). */
  async create(opts: CreateVolumeOptions, now: Date): Promise<VolumeRecord> {
    const name = opts.name || randomBytes(32).toString('hex');
    const problem = volumeNameProblem(name);
    if (problem) throw invalidArgument(problem);
    const options = { ...(opts.options ?? {}) };
    checkLocalOptions(options);
    if (this.records.has(name)) throw alreadyExists(`volume ${name} already exists`);
    const record: VolumeRecord = {
      name,
      driver: 'local',
      labels: { ...(opts.labels ?? {}) },
      options,
      createdAt: now.toISOString(),
      anonymous: opts.anonymous ?? false,
    };
    const tmp = path.join(this.dir, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`);
    await fs.promises.mkdir(tmp, { mode: 0o711 });
    try {
      // Docker's _data: root-owned 0755 (copy-up gives it the image directory's owner and mode).
      await fs.promises.mkdir(path.join(tmp, DATA), { mode: 0o755 });
      await fs.promises.chmod(path.join(tmp, DATA), 0o755);
      await writeFileAtomic(path.join(tmp, RECORD), JSON.stringify(record, null, 2), 0o600);
      await fs.promises.rename(tmp, path.join(this.dir, name));
      await fsyncDir(this.dir);
    } catch (e) {
      await fs.promises.rm(tmp, { recursive: true, force: true });
      if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw alreadyExists(`volume ${name} already exists`);
      }
      throw internal(`creating volume ${name} failed: ${(e as Error).message}`, e);
    }
    this.records.set(name, record);
    return record;
  }

  /** The data directory, mounted first for a volume with options (at first use). */
  async mountpoint(name: string): Promise<string> {
    const record = this.require(name);
    const data = this.dataPath(name);
    const { type, device, o } = record.options;
    if (type && device && !(await isMountPoint(data))) {
      await mount([{ type, source: device, options: o ? o.split(',').filter((x) => x !== '') : [] }], data);
    }
    return data;
  }

  /** Removes the volume: renamed away first (atomic), then deleted. NotFound when missing. */
  async remove(name: string): Promise<void> {
    this.require(name);
    const full = path.join(this.dir, name);
    await unmount(path.join(full, DATA));
    const trash = path.join(this.dir, `${TRASH_PREFIX}${randomBytes(8).toString('hex')}`);
    await fs.promises.rename(full, trash);
    this.records.delete(name);
    await fsyncDir(this.dir).catch(() => undefined);
    await fs.promises.rm(trash, { recursive: true, force: true }).catch((e: unknown) => {
      this.log?.warn('volumes: deleting a removed volume failed; cleared at next start', { dir: trash, error: e });
    });
  }

  /** Bytes of the regular files in the volume (hard links counted once), links not followed. */
  async size(name: string): Promise<number> {
    const seen = new Set<string>();
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) {
          const st = await fs.promises.lstat(p).catch(() => undefined);
          if (!st) continue;
          const key = `${st.dev}:${st.ino}`;
          if (st.nlink > 1 && seen.has(key)) continue;
          seen.add(key);
          total += st.size;
        }
      }
    };
    await walk(this.dataPath(name));
    return total;
  }
}
