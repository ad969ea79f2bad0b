/**
 * The free-space reserve: what gantryd leaves free on the filesystems it
 * writes to (`--min-free-space`), so that no pull — a compression bomb (a
 * few MB of gzip that expand to terabytes), a layer of millions of empty
 * files, or just an image too big for the disk — can fill the disk the rest
 * of the machine lives on.
 *
 * The reserve is checked with statfs(2), never per byte:
 * - before a write whose size is known (a blob download, from its
 *   descriptor; a large file of a layer, from its tar header): refused when
 *   it *would* leave less than the reserve free;
 * - while writing, every CHECK_INTERVAL bytes (SpaceMeter): refused once
 *   less than the reserve is free. Between two checks a writer can overshoot
 *   by at most the interval plus what it buffers.
 * Free space is what statfs calls available to unprivileged users (f_bavail),
 * so on ext4 the filesystem's own root reserve (5% by default) stays
 * untouched as well. Inodes are checked the same way: at least 1% of them
 * (or the reserve's percentage, when it is one) must stay free, or a layer of
 * millions of empty files exhausts them without using any bytes.
 *
 * Failures are ResourceExhausted and name the filesystem by its mount point:
 * "unpacking layer sha256:… would leave less than 1 GiB free on /var".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument, resourceExhausted } from '../errdefs/errdefs';

export interface FreeSpaceSpec {
  /** Bytes to leave free (0: none). */
  readonly bytes: number;
  /** Percent of the filesystem's size to leave free (0: none); the larger of the two applies. */
  readonly percent: number;
}

/**
 * The default: 1 GiB. Measured against f_bavail, so on ext4 it comes on top
 * of the filesystem's 5% root reserve; a percentage default would block
 * dozens of GB on a large disk for no gain (`--min-free-space 5%` asks for it).
 */
export const DEFAULT_MIN_FREE_SPACE = '1GiB';

/** Bytes written between two statfs calls of a SpaceMeter. */
export const CHECK_INTERVAL = 4 * 1024 * 1024;

/** Free inodes kept at least (percent of all), when the reserve is a byte count. */
const MIN_FREE_INODES_PERCENT = 1;

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "0" (disabled), "512MiB", "1GiB", "2G" (SI), "1073741824" or "5%". */
export function parseFreeSpace(text: string): FreeSpaceSpec {
  const t = text.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (percent) {
    const p = Number(percent[1]);
    if (p >= 100) throw invalidArgument(`invalid free space ${JSON.stringify(text)}: a percentage must be below 100%`);
    return { bytes: 0, percent: p };
  }
  const size = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(t);
  const unit = size ? UNITS[size[2].toLowerCase()] : undefined;
  if (!size || unit === undefined) {
    throw invalidArgument(`invalid free space ${JSON.stringify(text)} (want a size such as 1GiB or 500MB, a percentage such as 5%, or 0)`);
  }
  return { bytes: Math.round(Number(size[1]) * unit), percent: 0 };
}

export function formatFreeSpace(spec: FreeSpaceSpec): string {
  if (spec.bytes === 0 && spec.percent === 0) return 'off';
  if (spec.percent > 0) return `${spec.percent}%`;
  return formatIec(spec.bytes);
}

/** 16 MiB, 1 GiB, 1.5 GiB. */
export function formatIec(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : Number(v.toFixed(1))} ${units[u]}`;
}

type StatFs = (dir: string) => Promise<fs.StatsFs>;

export class DiskReserve {
  constructor(
    readonly spec: FreeSpaceSpec,
    private readonly statfs: StatFs = (dir) => fs.promises.statfs(dir),
  ) {}

  /** A reserve of 0 checks nothing. */
  get enabled(): boolean {
    return this.spec.bytes > 0 || this.spec.percent > 0;
  }

  /**
   * Fails with ResourceExhausted when writing `bytes` more (0: nothing more,
   * just "is the reserve still free?") to the filesystem of `dir` would leave
   * less than the reserve free. `doing` starts the message ("unpacking layer
   * sha256:…"). One statfs; a `dir` that cannot be stat'ed passes (the write
   * itself will say what is wrong).
   */
  async check(dir: string, bytes: number, doing: string): Promise<void> {
    if (!this.enabled) return;
    let st: fs.StatsFs;
    try {
      st = await this.statfs(dir);
    } catch {
      return;
    }
    const total = st.blocks * st.bsize;
    const reserve = Math.max(this.spec.bytes, (this.spec.percent / 100) * total);
    const free = st.bavail * st.bsize;
    if (free - bytes < reserve) {
      throw resourceExhausted(`${doing} would leave less than ${describeReserve(this.spec, reserve)} free on ${mountPointOf(dir)}`);
    }
    if (st.files > 0) {
      const inodes = Math.ceil(((this.spec.percent || MIN_FREE_INODES_PERCENT) / 100) * st.files);
      if (st.ffree < inodes) {
        throw resourceExhausted(`${doing} would leave fewer than ${inodes} free inodes on ${mountPointOf(dir)}`);
      }
    }
  }

  /** Counts the bytes of one writer (a layer, a blob) and checks the reserve every CHECK_INTERVAL of them. */
  meter(dir: string, doing: string): SpaceMeter {
    return new SpaceMeter(this, dir, doing);
  }
}

export class SpaceMeter {
  private unchecked = 0;

  constructor(
    private readonly reserve: DiskReserve,
    private readonly dir: string,
    private readonly doing: string,
  ) {}

  /**
   * `bytes` were (or are about to be) written. Returns a check to await once
   * CHECK_INTERVAL bytes went unchecked, else undefined (nothing to wait for:
   * callers on a hot path skip the await).
   */
  wrote(bytes: number): Promise<void> | undefined {
    if (!this.reserve.enabled) return undefined;
    this.unchecked += bytes;
    if (this.unchecked < CHECK_INTERVAL) return undefined;
    this.unchecked = 0;
    return this.reserve.check(this.dir, 0, this.doing);
  }

  /** About to write `bytes` at once: a large write is checked up front ("would leave"), a small one counted. */
  before(bytes: number): Promise<void> | undefined {
    if (!this.reserve.enabled || bytes < CHECK_INTERVAL) return undefined;
    return this.reserve.check(this.dir, bytes, this.doing);
  }
}

function describeReserve(spec: FreeSpaceSpec, bytes: number): string {
  return spec.percent > 0 && bytes > spec.bytes ? `${spec.percent}% (${formatIec(bytes)})` : formatIec(bytes);
}

/** The mount point of the filesystem holding `dir` (for messages; `dir` itself when unknown). */
export function mountPointOf(dir: string): string {
  try {
    const real = fs.realpathSync(dir);
    let best = '';
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const field = line.split(' ')[4];
      if (!field) continue;
      const mp = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      const within = mp === '/' || real === mp || real.startsWith(mp.endsWith(path.sep) ? mp : mp + path.sep);
      if (within && mp.length > best.length) best = mp;
    }
    return best || dir;
  } catch {
    return dir;
  }
}
