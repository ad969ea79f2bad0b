// What every benchmark script needs around its measurements: the processes it
// starts are tracked and stopped on exit and on Ctrl-C (SIGINT/SIGTERM/SIGHUP),
// one work dir holds every tool's tree (used trees are moved to work/trash and
// deleted only at the end, never through a mount), and timed runs of one-shot
// commands. See docs/testing.md, "Benchmarks, not timed tests".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Proc, runCommand, startProcess, type ProcOptions } from '../../test/helpers/proc';
import { Cleanup, makeTempDir, removeTempDir } from '../../test/helpers/tmp';
import { startRegistry, type Registry } from '../../test/helpers/registry';
import { loadavg, watchDist } from './report';

/** Teardown steps, newest first; run at the end of main() or on a signal. */
export const cleanup = new Cleanup();
const running = new Set<Proc>();
let interrupted = false;

/** Registers a started process: it is killed if the run is interrupted and stopped at the end. */
export function track(p: Proc): Proc {
  running.add(p);
  void p.waitForExit().then(() => running.delete(p));
  return p;
}

/** startProcess + track. */
export function start(cmd: string, args: string[], opts: ProcOptions = {}): Proc {
  return track(startProcess(cmd, args, opts));
}

export function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping everything this benchmark started and removing its temp dirs…\n`);
  for (const p of running) p.kill('SIGKILL');
  void cleanup
    .runAll()
    .catch((e) => process.stderr.write(`cleanup: ${(e as Error).message}\n`))
    .finally(() => process.exit(130));
}

/**
 * Runs a benchmark's main(): signal handlers first, the cleanup stack after
 * (also when main fails). Exit code 1 on failure, 130 on a signal.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  main()
    .catch((e) => {
      if (!interrupted) process.stderr.write(`${name}: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      if (interrupted) return; // the signal handler cleans up and exits
      process.stderr.write('cleaning up…\n');
      await cleanup.runAll().catch((e) => {
        process.stderr.write(`cleanup: ${(e as Error).message}\n`);
        process.exitCode = 1;
      });
    });
}

/** Fails early, with the install hint, when a needed binary is not on PATH. */
export function requireBinaries(bins: readonly string[]): void {
  for (const bin of bins) {
    const found = (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
    if (!found) throw new Error(`${bin} is not installed; run scripts/install-bench-deps.sh (as root)`);
  }
}

export interface WorkDir {
  /** /tmp/<prefix>-XXXXXX: one fresh subdirectory per tool run. */
  dir: string;
  /**
   * Unmounts whatever is left below `runDir` and moves it to the trash:
   * a big delete slows file creation for minutes on this disk (ext4 without
   * a journal), so trees are deleted only when the run ends. Resolves with
   * the mount points it had to unmount.
   */
  retire(runDir: string): Promise<string[]>;
}

/**
 * The run's work dir. Cleanup (registered here, so it runs after every
 * process registered later is gone): stop what still runs, unmount
 * everything below the dir, remove it.
 *
 * The dir gets ext4's "top of directory hierarchy" flag (`chattr +T`), so
 * the allocator (Orlov) spreads each run dir made in it to a block group of
 * its own, as it does for directories in `/`. Without it, run dirs land in
 * the block groups of /tmp, next to whatever other jobs create and delete
 * there: file creation in a new dir under /tmp was measured here at
 * 530–830 µs a file while another job churned files under /tmp, and
 * 30–40 µs a file at the same time in a dir under a +T parent. (Likely
 * cause: without a journal, ext4 skips recently deleted inodes when it
 * allocates one, fs/ext4/ialloc.c recently_deleted(), scanning past them.)
 */
export async function makeWorkDir(prefix: string): Promise<WorkDir> {
  const dir = await makeTempDir(prefix);
  await runCommand('chattr', ['+T', dir]).catch((e) =>
    process.stderr.write(
      `note: chattr +T ${dir} failed (not ext4?); run dirs share /tmp's block groups: ${(e as Error).message.split('\n')[0]}\n`,
    ),
  );
  cleanup.defer(async () => {
    // Last: after every process is gone, and never through a mount left behind.
    await unmountUnder(dir);
    await removeTempDir(dir);
  });
  cleanup.defer(async () => {
    for (const p of running) await p.stop(5_000);
  });
  const trash = path.join(dir, 'trash');
  await fs.promises.mkdir(trash);
  return {
    dir,
    retire: async (runDir) => {
      const unmounted = await unmountUnder(runDir); // nothing should be left mounted; never move or delete through a mount
      await fs.promises.rename(runDir, path.join(trash, path.basename(runDir)));
      return unmounted;
    },
  };
}

/** Mount points at or below `dir`, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  let mounts: string[];
  try {
    mounts = (await fs.promises.readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .map((l) => decode(l.split(' ')[4] ?? ''))
      .filter((m) => m === dir || m.startsWith(dir + '/'));
  } catch {
    return [];
  }
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

/** Lazily unmounts whatever is still mounted at or below `dir` (deepest first; stacked mounts too). */
export async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (let round = 0; round < 5; round++) {
    const mounts = await mountsUnder(dir);
    if (mounts.length === 0) break;
    for (const m of mounts) {
      await runCommand('umount', ['-l', m]).then(
        () => done.push(m),
        (e) => process.stderr.write(`umount ${m}: ${(e as Error).message}\n`),
      );
    }
  }
  return done;
}

export interface TimedOptions {
  env?: NodeJS.ProcessEnv;
  /** Kept output (the newest characters of stdout and of stderr; default 64 KiB). */
  maxOutput?: number;
}

/** Runs a command to completion; the wall time from spawn to exit, in ms. Fails on a non-zero exit. */
export async function timed(cmd: string, args: string[], opts: TimedOptions = {}): Promise<number> {
  checkInterrupted();
  const t0 = performance.now();
  const p = start(cmd, args, { name: `${path.basename(cmd)} ${args.join(' ')}`, maxOutput: opts.maxOutput ?? 64 * 1024, env: opts.env });
  const status = await p.waitForExit();
  const ms = performance.now() - t0;
  if (status.code !== 0) throw new Error(`${p.name} failed (${JSON.stringify(status)}):\n${p.stderr.trim()}\n${p.stdout.trim()}`);
  return ms;
}

/**
 * File creation speed here and now: creates `files` 1 KiB files in a new
 * directory `dir` (placed like a run dir) and returns the microseconds per
 * file (open O_CREAT|O_EXCL + write + close, synchronous, as a layer writer
 * does). The files stay; `dir` goes to the trash with the work dir.
 */
export async function diskProbe(dir: string, files = 500): Promise<number> {
  await fs.promises.mkdir(dir);
  const data = Buffer.alloc(1024, 0x61);
  const { O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
  const t0 = performance.now();
  for (let i = 0; i < files; i++) {
    const fd = fs.openSync(path.join(dir, `f${i}`), O_WRONLY | O_CREAT | O_EXCL, 0o644);
    try {
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  }
  return ((performance.now() - t0) * 1000) / files;
}

export interface DiskState {
  /** µs per file of each probe dir in the last round (harness.ts diskProbe). */
  usPerFile: number[];
  /** Time spent waiting for the disk to settle. */
  waitedMs: number;
  /** false: still slow when the wait limit was reached. */
  settled: boolean;
}

/**
 * Waits until file creation is fast everywhere the allocator may put the next
 * run dir. Each round probes `dirs` new dirs in `parent` (each placed in its
 * own block group under a +T parent); the disk counts as settled when the
 * slowest is within `factor` of the fastest seen in this process. Right
 * after a large delete some block groups are several times slower than
 * others for minutes (see makeWorkDir), and a run dir placed in one of them
 * measures the disk, not the tool. Gives up after `maxWaitMs` (then
 * settled: false; the caller records it).
 */
export async function settleDisk(
  parent: string,
  opts: { maxWaitMs: number; log: (s: string) => void; dirs?: number; factor?: number; intervalMs?: number },
): Promise<DiskState> {
  const dirs = opts.dirs ?? 4;
  const factor = opts.factor ?? 4;
  const started = performance.now();
  for (let round = 0; ; round++) {
    checkInterrupted();
    const usPerFile: number[] = [];
    for (let i = 0; i < dirs; i++) usPerFile.push(await diskProbe(path.join(parent, `probe-${probeSeq++}`)));
    bestProbeUs = Math.min(bestProbeUs, ...usPerFile);
    const worst = Math.max(...usPerFile);
    const waitedMs = performance.now() - started;
    if (worst <= factor * bestProbeUs) return { usPerFile, waitedMs, settled: true };
    if (waitedMs >= opts.maxWaitMs) return { usPerFile, waitedMs, settled: false };
    if (round === 0) {
      opts.log(
        `  disk: creating a file takes ${usPerFile.map((u) => u.toFixed(0)).join('/')} µs in fresh dirs (best ${bestProbeUs.toFixed(0)}): ` +
          `waiting for it to settle (at most ${Math.round(opts.maxWaitMs / 1000)} s)…`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 15_000));
  }
}

let bestProbeUs = Infinity;
let probeSeq = 0;

/** What every benchmark opens first: a work dir, a logger, the drift watches and a loopback registry. */
export interface BenchSession {
  readonly workDir: WorkDir;
  readonly work: string;
  readonly log: (line: string) => void;
  /** True once dist/ was rebuilt during the run (the numbers would mix two builds). */
  readonly distChangedSinceStart: () => boolean;
  readonly loadAtStart: number[];
  readonly registry: Registry;
}

export async function openBenchSession(
  name: string,
  workPrefix: string,
  opts: { images: readonly string[]; tools: readonly string[]; warmup: number; runs: number },
): Promise<BenchSession> {
  const workDir = await makeWorkDir(workPrefix);
  const log = (line: string) => process.stderr.write(line + '\n');
  const distChangedSinceStart = watchDist();
  const loadAtStart = loadavg();
  log(`${name}: ${opts.images.join(', ')} × ${opts.tools.join(', ')}, ${opts.warmup} warm-up + ${opts.runs} runs; work dir ${workDir.dir}`);
  const registry = await startRegistry({ cleanup });
  log(`registry ${registry.url} (docker-registry, storage in ${registry.storageDir})`);
  return { workDir, work: workDir.dir, log, distChangedSinceStart, loadAtStart, registry };
}
