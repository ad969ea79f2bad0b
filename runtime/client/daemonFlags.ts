/**
 * Node/V8 flags and environment gantryd is started with, by everything that
 * starts it (the extension's Start Runtime, remote deploy, the systemd unit,
 * scripts/start.sh, tests, benches). Those are all clients, so the constants
 * live in the client package. docs/performance.md, "gantryd's memory", has
 * the measurements.
 *
 * `--max-semi-space-size=1`: V8's young generation otherwise grows to 32 MiB
 * of semi-spaces, which a daemon doing small, short-lived work never needs;
 * capped at 1 MiB, gantryd's PSS drops by a third (bench/containers.ts: 103 →
 * 67 MiB with 50 containers) at no measurable cost in speed. V8 reads it only
 * when the process starts, so it must be on the command line.
 *
 * `--optimize-for-size`: V8 grows the old generation by a smaller factor
 * after each full collection (and keeps less of what it could reuse), so
 * less garbage stays resident between collections: gantryd's PSS with 50
 * containers 44 → 37 MiB (medians of 5+ runs, bench/containers.ts), for
 * ~150 ms more CPU at start-up (350 → 500 ms to serving) and no difference
 * the benchmark's run rows could tell from the noise of a loaded machine.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

/**
 * glibc's malloc settings for gantryd. glibc reads them only when the process
 * starts, so they must be in its environment (an `env` word before node,
 * `Environment=` in a unit, a spawn's env); another libc ignores them.
 *
 * `MALLOC_MMAP_THRESHOLD_=131072`: glibc maps a block of 128 KiB or more on
 * its own, but by default it raises that threshold to the size of every
 * such block freed (the 2 MB bundle read at start, a 1 MiB message, a
 * thread's buffers), and from then on those sizes come from the heaps,
 * which keep what is freed below their top and an arena per thread of
 * libuv's pool: ~15 MiB of gantryd's PSS after a pull and 50 starts. Set,
 * the threshold stays at glibc's initial 128 KiB. (`MALLOC_ARENA_MAX=2`,
 * also measured, moved the threads' memory into the main heap and did not
 * help.)
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
};

/** DAEMON_ENV as `NAME=VALUE` words: for `env …` before node, and a unit's `Environment=`. */
export function daemonEnvWords(): string[] {
  return Object.entries(DAEMON_ENV).map(([name, value]) => `${name}=${value}`);
}
