/**
 * Doing what a `Mount` describes: mount(8)/umount(8) run with argv (never a
 * shell), and /proc/self/mountinfo for what is mounted where.
 *
 *   mount(mounts, target)   mounts each entry on `target` in order (stacked);
 *                           on failure, the ones already mounted are undone
 *   unmount(target)         unmounts everything stacked on `target`; a
 *                           no-op when nothing is mounted there (idempotent)
 *   unmountAll(prefix)      unmounts every mount at or below `prefix`,
 *                           deepest first (crash recovery, test teardown)
 *
 * How each type is mounted:
 *   bind    `mount --bind|--rbind SOURCE TARGET`, then — when the options ask
 *           for ro/nosuid/nodev/noexec — `mount -o remount,bind,ro,… TARGET`
 *           (the kernel ignores those flags on the first bind call)
 *   overlay `mount -t overlay overlay -o OPTIONS TARGET`
 *   fuse-overlayfs  `fuse-overlayfs -o lowerdir=…,upperdir=…,workdir=… TARGET`
 *           (the program on PATH; only the dir options: it has no index=off
 *           or userxattr, and reads user.overlay.opaque by itself); unmounted
 *           with umount(8) like any other, which also ends the program
 *   other   `mount -t TYPE SOURCE -o OPTIONS TARGET`
 *
 * Long overlay option strings. mount(2) copies at most one page (4096 bytes)
 * of option data; a longer string is cut off and fails obscurely. Mounts keep
 * absolute paths (the applier reads them), and only here, when the string
 * would come near that limit, are the lowerdirs rewritten relative to their
 * common parent directory, with mount(8) run in that directory as its cwd
 * (the kernel resolves relative lowerdirs against the caller's cwd) — what
 * containerd's compactLowerdirOption does. For a snapshotter's
 * `<root>/snapshots/<id>/fs` dirs that costs ~8 bytes a layer, enough for the
 * kernel's 500-layer maximum. If even that does not fit, `mount` refuses with
 * ResourceExhausted before calling anything (`overlayMountData` lets a
 * snapshotter check at prepare time).
 *
 * Errors: a failed mount(8)/umount(8) is Internal, naming the mount (type,
 * source, target) and carrying the tool's stderr. Cost: one process per call.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { internal, invalidArgument, resourceExhausted } from '../errdefs/errdefs';
import { FUSE_OVERLAY_TYPE, isOverlay, optionValue, type Mount } from './mount';

const MOUNT = '/bin/mount';
const UMOUNT = '/bin/umount';
/** Found on PATH (Debian: /usr/bin/fuse-overlayfs). */
export const FUSE_OVERLAYFS = 'fuse-overlayfs';

/** mount(2) reads at most one page of option data. */
export const MOUNT_DATA_MAX = 4096;
/** Above this (containerd uses pagesize-512) the lowerdirs are made relative. */
const COMPACT_THRESHOLD = MOUNT_DATA_MAX - 512;
/** The kernel's OVL_MAX_STACK: lower layers one overlay mount can stack. */
export const OVERLAY_MAX_LOWERS = 500;

// ── running tools ────────────────────────────────────────────────────────

export interface ToolOptions {
  readonly cwd?: string;
  /** Written to stdin, then stdin is closed. */
  readonly input?: string | Buffer;
  readonly signal?: AbortSignal;
}

export interface ToolResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Error from runTool when the tool is not installed (spawn ENOENT). */
export class ToolMissingError extends Error {
  override readonly name = 'ToolMissingError';
  constructor(readonly tool: string) {
    super(`${tool} is not installed`);
  }
}

/**
 * Runs a system tool with argv (no shell) in the C locale; resolves with its
 * output, rejects with Internal naming argv, exit status and stderr when it
 * does not exit 0 (ToolMissingError when it is not installed).
 */
export function runTool(file: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, LC_ALL: 'C' },
        encoding: 'buffer',
        maxBuffer: 256 << 20,
        signal: options.signal,
      },
      (error, stdout, stderr) => {
        const err = stderr.toString('utf8').trim();
        if (!error) return resolve({ stdout, stderr: err });
        // A string code is a spawn failure; a number is the tool's exit status.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new ToolMissingError(file));
        const failure: Error = error; // an Error, though the lint rule cannot tell through ExecFileException's Omit<>
        if (failure.name === 'AbortError') return reject(failure);
        const status = (error as { code?: unknown }).code;
        reject(internal(`${[file, ...args].join(' ')} failed (exit ${String(status)}): ${err || error.message}`, error));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

// ── mounting ─────────────────────────────────────────────────────────────

/**
 * Mounts `mounts` on `target` in order. The target must exist. When one
 * fails, the ones mounted before it are unmounted and the error is thrown.
 */
export async function mount(mounts: readonly Mount[], target: string): Promise<void> {
  if (mounts.length === 0) throw invalidArgument(`nothing to mount on ${target}`);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(target);
  } catch (e) {
    throw invalidArgument(`mount target ${target} does not exist`, e);
  }
  if (!stat.isDirectory() && mounts.some(isOverlay)) {
    throw invalidArgument(`mount target ${target} is not a directory`);
  }
  let done = 0;
  try {
    for (const m of mounts) {
      await mountOne(m, target);
      done++;
    }
  } catch (e) {
    for (let i = 0; i < done; i++) await unmountOnce(target).catch(() => undefined);
    throw e;
  }
}

async function mountOne(m: Mount, target: string): Promise<void> {
  const what = `${m.type} mount of ${m.source} on ${target}`;
  const wrap = (e: unknown) => internal(`${what} failed: ${e instanceof Error ? e.message : String(e)}`, e);
  if (m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind')) {
    const recursive = m.options.includes('rbind');
    const flags = m.options.filter((o) => !['bind', 'rbind', 'rw', 'defaults'].includes(o));
    await runTool(MOUNT, [recursive ? '--rbind' : '--bind', m.source, target]).catch((e) => {
      throw wrap(e);
    });
    if (flags.length > 0) {
      try {
        await runTool(MOUNT, ['-o', ['remount', 'bind', ...flags].join(','), target]);
      } catch (e) {
        await unmountOnce(target).catch(() => undefined);
        throw wrap(e);
      }
    }
    return;
  }
  if (m.type === 'overlay') {
    const { data, cwd } = overlayMountData(m);
    await runTool(MOUNT, ['-t', 'overlay', m.source, '-o', data, target], { cwd }).catch((e) => {
      throw wrap(e);
    });
    return;
  }
  if (m.type === FUSE_OVERLAY_TYPE) {
    // argv, not mount(2): no page limit, so the lowerdirs stay absolute.
    const dirs = m.options.filter((o) => /^(lowerdir|upperdir|workdir)=/.test(o));
    await runTool(FUSE_OVERLAYFS, ['-o', dirs.join(','), target]).catch((e) => {
      throw wrap(e);
    });
    return;
  }
  const args = ['-t', m.type, m.source];
  if (m.options.length) args.push('-o', m.options.join(','));
  await runTool(MOUNT, [...args, target]).catch((e) => {
    throw wrap(e);
  });
}

/**
 * The option string mount(2) will receive for an overlay mount, and the cwd
 * to run mount(8) in when the lowerdirs had to be made relative. Throws
 * ResourceExhausted when the layers cannot fit in one page even then, and
 * InvalidArgument beyond the kernel's 500 lower layers.
 */
export function overlayMountData(m: Mount): { data: string; cwd?: string } {
  const lower = optionValue(m, 'lowerdir');
  const lowers = lower ? lower.split(':') : [];
  if (lowers.length > OVERLAY_MAX_LOWERS) {
    throw invalidArgument(`overlay mount has ${lowers.length} lower layers; the kernel stacks at most ${OVERLAY_MAX_LOWERS}`);
  }
  const data = m.options.join(',');
  if (data.length < COMPACT_THRESHOLD || lowers.length < 2) return checkFits(data, lowers.length);
  const common = commonDir(lowers);
  if (!common) return checkFits(data, lowers.length);
  const relative = lowers.map((d) => path.relative(common, d));
  const options = m.options.map((o) => (o.startsWith('lowerdir=') ? `lowerdir=${relative.join(':')}` : o));
  return { ...checkFits(options.join(','), lowers.length), cwd: common };
}

function checkFits(data: string, lowers: number): { data: string } {
  if (Buffer.byteLength(data) >= MOUNT_DATA_MAX) {
    throw resourceExhausted(
      `overlay mount options for ${lowers} lower layers need ${Buffer.byteLength(data)} bytes; mount(2) takes at most ${MOUNT_DATA_MAX - 1}`,
    );
  }
  return { data };
}

/** Longest common ancestor directory of absolute paths, or undefined (only "/"). */
function commonDir(paths: readonly string[]): string | undefined {
  if (!paths.every((p) => path.isAbsolute(p))) return undefined;
  let parts = path.dirname(paths[0]).split('/');
  for (const p of paths.slice(1)) {
    const other = p.split('/');
    let i = 0;
    while (i < parts.length && i < other.length - 1 && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  const dir = parts.join('/');
  return dir && dir !== '/' ? dir : undefined;
}

// ── unmounting ───────────────────────────────────────────────────────────

/**
 * Unmounts everything stacked on `target`. Idempotent: nothing mounted is
 * not an error. A busy mount is retried for about a second, then Internal.
 */
export async function unmount(target: string): Promise<void> {
  const resolved = await realpathOrSelf(target);
  for (let attempt = 0; ; attempt++) {
    if (!(await mountPoints()).has(resolved)) return;
    try {
      await unmountOnce(resolved);
    } catch (e) {
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function unmountOnce(target: string): Promise<void> {
  try {
    await runTool(UMOUNT, [target]);
  } catch (e) {
    throw internal(`unmount of ${target} failed: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/**
 * Unmounts every mount whose mount point is `prefix` or below it, newest
 * first: a mount is always newer than the one it sits on, so children go
 * before parents, and a mount stacked over (hiding) another goes before it —
 * where "deepest path first" would try to reach a hidden mount through the
 * one stacked over it. A failure is retried on a later pass; what still
 * cannot be unmounted after a few passes is reported (Internal). Returns the
 * mount points unmounted, in order.
 */
export async function unmountAll(prefix: string): Promise<string[]> {
  const root = await realpathOrSelf(prefix);
  const below = (m: MountInfo) => m.mountPoint === root || m.mountPoint.startsWith(root === '/' ? '/' : `${root}/`);
  const done: string[] = [];
  let failure: unknown;
  for (let pass = 0; pass < 5; pass++) {
    const pending = (await readMountInfo()).filter(below).reverse();
    if (pending.length === 0) return done;
    if (pass > 0) await new Promise((r) => setTimeout(r, 100));
    for (const m of pending) {
      try {
        await unmountOnce(m.mountPoint);
        done.push(m.mountPoint);
      } catch (e) {
        failure = e;
      }
    }
  }
  const left = (await readMountInfo()).filter(below).map((m) => m.mountPoint);
  if (left.length === 0) return done;
  throw internal(`could not unmount ${left.join(', ')}`, failure);
}

export interface MountInfo {
  readonly id: number;
  readonly parentId: number;
  /** Absolute, unescaped. */
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
  readonly options: string;
  readonly superOptions: string;
}

/** Parses /proc/self/mountinfo (proc(5)), in the kernel's order. */
export async function readMountInfo(file = '/proc/self/mountinfo'): Promise<MountInfo[]> {
  return parseMountInfo(await fs.promises.readFile(file, 'utf8'));
}

export function parseMountInfo(text: string): MountInfo[] {
  const result: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (fields.length < 10 || sep < 0) continue;
    result.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      mountPoint: unescapeMountField(fields[4]),
      options: fields[5],
      fsType: unescapeMountField(fields[sep + 1]),
      source: unescapeMountField(fields[sep + 2]),
      superOptions: fields[sep + 3] ?? '',
    });
  }
  return result;
}

/** The kernel escapes space, tab, newline and backslash as \ooo octal. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** True when something is mounted exactly at `target`. */
export async function isMountPoint(target: string): Promise<boolean> {
  return (await mountPoints()).has(await realpathOrSelf(target));
}

async function mountPoints(): Promise<Set<string>> {
  return new Set((await readMountInfo()).map((m) => m.mountPoint));
}

async function realpathOrSelf(p: string): Promise<string> {
  try {
    return await fs.promises.realpath(p);
  } catch {
    return path.resolve(p);
  }
}
