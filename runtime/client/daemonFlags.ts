/**
 * Node/V8 flags gantryd is started with, by everything that starts it (the
 * extension's Start Runtime, remote deploy, scripts/start.sh, tests, benches).
 * Those are all clients, so the constant lives in the client package.
 *
 * `--max-semi-space-size=1`: V8's young generation otherwise grows to 32 MiB
 * of semi-spaces, which a daemon doing small, short-lived work never needs;
 * capped at 1 MiB, gantryd's PSS drops by a third (bench/containers.ts: 103 →
 * 67 MiB with 50 containers) at no measurable cost in speed. V8 reads it only
 * when the process starts, so it must be on the command line.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
