/**
 * The volume service: `volume create|ls|inspect|rm|prune` over the local
 * store, with uses read from the container records (volumes.ts says why)
 * and volume events on the log. Every change to one volume, and every hold
 * a container create takes on it, runs under that volume's lock, so a
 * remove never races a create that is about to use the volume.
 */
import { failedPrecondition, invalidArgument, isAlreadyExists, isFailedPrecondition, isNotFound } from '../errdefs/errdefs';
import type { Publisher } from '../events/events';
import { KeyedMutex } from '../util/keyedMutex';
import type { LocalVolumeStore } from './store';
import { VolumeTopics, type CreateVolumeOptions, type VolumeInfo, type VolumeRecord, type VolumeUser } from './volumes';

/** A container record as far as volumes care: who it is and which volumes it names. */
export interface VolumeReferrer {
  readonly id: string;
  readonly name: string;
  readonly volumes: readonly string[];
}

export interface VolumeServiceDeps {
  readonly store: LocalVolumeStore;
  readonly events: Publisher;
  /** Every container record, running or not. */
  readonly referrers: () => readonly VolumeReferrer[];
  readonly now?: () => Date;
}

interface Filters {
  dangling?: boolean;
  labels: { key: string; value?: string; negate: boolean }[];
  names: string[];
}

function parseFilters(filters: readonly string[], allowed: readonly string[]): Filters {
  const out: Filters = { labels: [], names: [] };
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw invalidArgument(`bad filter ${JSON.stringify(f)}: want KEY=VALUE`);
    let key = f.slice(0, eq);
    const value = f.slice(eq + 1);
    const negate = key.endsWith('!');
    if (negate) key = key.slice(0, -1);
    if (!allowed.includes(key) || (negate && key !== 'label')) throw invalidArgument(`invalid filter ${JSON.stringify(key)}`);
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(value)) throw invalidArgument(`invalid filter 'dangling=${value}'`);
      out.dangling = value === 'true' || value === '1';
    } else if (key === 'label') {
      const e = value.indexOf('=');
      out.labels.push(e < 0 ? { key: value, negate } : { key: value.slice(0, e), value: value.slice(e + 1), negate });
    } else if (key === 'name') out.names.push(value);
    else if (key === 'driver' && value !== 'local') out.names.push('\0'); // matches nothing
  }
  return out;
}

function labelsMatch(record: VolumeRecord, f: Filters): boolean {
  return f.labels.every((l) => {
    const has = l.key in record.labels && (l.value === undefined || record.labels[l.key] === l.value);
    return l.negate ? !has : has;
  });
}

export class VolumeService {
  private readonly lock = new KeyedMutex();
  /** Volumes held by container creates in progress: name → count. */
  private readonly holds = new Map<string, number>();
  private readonly now: () => Date;

  constructor(private readonly deps: VolumeServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  get store(): LocalVolumeStore {
    return this.deps.store;
  }

  usersOf(name: string): VolumeUser[] {
    return this.deps
      .referrers()
      .filter((r) => r.volumes.includes(name))
      .map((r) => ({ id: r.id, name: r.name }));
  }

  private inUse(name: string): VolumeUser[] | undefined {
    const users = this.usersOf(name);
    if (users.length) return users;
    return this.holds.get(name) ? [] : undefined;
  }

  /** `volume create`: an existing name is returned as it is (Docker's rule). */
  create(opts: CreateVolumeOptions): Promise<VolumeRecord> {
    return this.ensure(opts).then((r) => r.record);
  }

  /** Makes the volume unless it exists; says which. */
  private async ensure(opts: CreateVolumeOptions): Promise<{ record: VolumeRecord; created: boolean }> {
    const existing = opts.name ? this.deps.store.get(opts.name) : undefined;
    if (existing) return { record: existing, created: false };
    const run = async () => {
      const again = opts.name ? this.deps.store.get(opts.name) : undefined;
      if (again) return { record: again, created: false };
      try {
        const record = await this.deps.store.create(opts, this.now());
        this.deps.events.publish(VolumeTopics.create, record.name, { driver: record.driver });
        return { record, created: true };
      } catch (e) {
        const now = opts.name && isAlreadyExists(e) ? this.deps.store.get(opts.name) : undefined;
        if (now) return { record: now, created: false };
        throw e;
      }
    };
    return opts.name ? this.lock.run(opts.name, run) : run();
  }

  /**
   * Makes each volume that is missing and holds all of them until the
   * returned function is called (a container create, until its record is stored).
   */
  async hold(wanted: readonly CreateVolumeOptions[]): Promise<{ records: VolumeRecord[]; done: () => void }> {
    const held: string[] = [];
    const done = () => {
      for (const n of held.splice(0)) {
        const c = (this.holds.get(n) ?? 1) - 1;
        if (c > 0) this.holds.set(n, c);
        else this.holds.delete(n);
      }
    };
    const records: VolumeRecord[] = [];
    try {
      for (const opts of wanted) {
        const { record } = await this.ensure(opts);
        await this.lock.run(record.name, async () => {
          this.deps.store.require(record.name); // removed meanwhile: NotFound
          this.holds.set(record.name, (this.holds.get(record.name) ?? 0) + 1);
          held.push(record.name);
        });
        records.push(record);
      }
    } catch (e) {
      done();
      throw e;
    }
    return { records, done };
  }

  async list(filters: readonly string[] = [], withSize = false): Promise<VolumeInfo[]> {
    const f = parseFilters(filters, ['dangling', 'label', 'name', 'driver']);
    const out: VolumeInfo[] = [];
    for (const record of this.deps.store.list()) {
      if (f.names.length && !f.names.some((n) => record.name.includes(n))) continue;
      if (!labelsMatch(record, f)) continue;
      const info = await this.info(record, withSize);
      if (f.dangling !== undefined && f.dangling !== (info.users.length === 0)) continue;
      out.push(info);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async inspect(name: string): Promise<VolumeInfo> {
    return this.info(this.deps.store.require(name), true);
  }

  private async info(record: VolumeRecord, withSize: boolean): Promise<VolumeInfo> {
    return {
      ...record,
      mountpoint: this.deps.store.dataPath(record.name),
      users: this.usersOf(record.name),
      size: withSize ? await this.deps.store.size(record.name) : -1,
    };
  }

  /** Refused while any container references it — `force` only makes a missing volume no error. */
  remove(name: string, force = false): Promise<void> {
    return this.lock.run(name, async () => {
      if (!this.deps.store.get(name)) {
        if (force) return;
        this.deps.store.require(name);
      }
      const users = this.inUse(name);
      if (users) {
        const ids = users.length ? users.map((u) => u.id).join(', ') : 'a container being created';
        throw failedPrecondition(`remove ${name}: volume is in use - [${ids}]`);
      }
      await this.deps.store.remove(name);
      this.deps.events.publish(VolumeTopics.destroy, name, { driver: 'local' });
    });
  }

  /** Removes unused volumes (anonymous ones only unless `all`), reporting the bytes freed. */
  async prune(all: boolean, filters: readonly string[] = []): Promise<{ removed: string[]; reclaimedBytes: number }> {
    const f = parseFilters(filters, ['label']);
    const removed: string[] = [];
    let reclaimedBytes = 0;
    for (const record of this.deps.store.list()) {
      if (!all && !record.anonymous) continue;
      if (!labelsMatch(record, f)) continue;
      if (this.inUse(record.name)) continue;
      const size = await this.deps.store.size(record.name);
      try {
        await this.remove(record.name);
      } catch (e) {
        // Taken into use meanwhile, or removed by someone else: not this prune's.
        if (isNotFound(e) || isFailedPrecondition(e)) continue;
        throw e;
      }
      removed.push(record.name);
      reclaimedBytes += size;
    }
    return { removed, reclaimedBytes };
  }
}
