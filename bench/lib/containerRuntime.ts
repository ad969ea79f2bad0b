// What the containers benchmark (bench/containers.ts) asks of every runtime it
// compares — gantry (CLI and API), containerd through ctr, podman, bare runc —
// and the process helpers the drivers share: timed commands whose output is
// kept (listings), timed detached commands whose stdio must not be ours
// (`runc run -d`), and the runc-level safety net that removes whatever a run
// left behind, also after Ctrl-C, when the daemons may already be dead.
//
// Lifecycle of a driver: set up (daemon started, image pulled or unpacked —
// none of it timed) → the timed operations → `forceCleanup` from the cleanup
// stack (harness.ts), which must find nothing after a normal run.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../../test/helpers/proc';
import { checkInterrupted, start } from './harness';
import { killPids, listProcesses, matching } from './procmem';

/** The tools: a setup each, except gantry and gantry-api, which share one gantryd. */
export const TOOL_IDS = ['gantry', 'gantry-api', 'ctr', 'podman', 'runc'] as const;
export type ToolId = (typeof TOOL_IDS)[number];

/** Rows of the `run --rm IMAGE /bin/true` table: gantry-api measures two ways of running through the API. */
export type RunRmRowId = ToolId | 'gantry-api-wait';

export interface RunRmResult {
  ms: number;
  /** gantry-api: the time of each call (create, attach to exit, …), ms, in order. */
  parts?: Record<string, number>;
}

export interface RunRmRow {
  row: RunRmRowId;
  /** One `run --rm IMAGE /bin/true`: the container is gone when it resolves. Fails unless it exited 0. */
  run(seq: number): Promise<RunRmResult>;
}

export interface Lister {
  /** What is timed, e.g. "ctr tasks ls". */
  label: string;
  /** One listing; ms, and how many running containers it showed. */
  run(): Promise<{ ms: number; running: number }>;
}

export interface ContainerRuntime {
  readonly tool: ToolId;
  readonly runRm: RunRmRow[];
  /** Starts one detached `sleep 300` named `name`; resolves (ms) once the tool reports it started. */
  startSleep(name: string): Promise<number>;
  /** The names of running containers, as the tool itself lists them (a check, not timed). */
  runningNames(): Promise<string[]>;
  /** All containers the tool still has, running or not (after the run --rm phase this must be none). */
  allNames(): Promise<string[]>;
  readonly listers: Lister[];
  /** Force-removes the named containers (running ones are killed); ms. */
  removeAll(names: string[]): Promise<number>;
  /** The pids whose memory counts: the daemon (and what it forked) and the per-container monitors. */
  processes(): Promise<{ daemon: number[]; monitors: number[] }>;
  /** Safety net: removes whatever is left and kills leftover monitors; works with the daemon dead. */
  forceCleanup(): Promise<void>;
}

export interface TimedOutput {
  ms: number;
  stdout: string;
}

/**
 * Runs a command to completion like harness.ts `timed` (spawn to exit, tracked
 * for Ctrl-C), but keeps its whole stdout for the caller to check. Fails on a
 * non-zero exit.
 */
export async function timedOutput(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<TimedOutput> {
  checkInterrupted();
  const t0 = performance.now();
  const p = start(cmd, args, { name: `${path.basename(cmd)} ${args.join(' ')}`, maxOutput: 8 << 20, env: opts.env });
  const status = await p.waitForExit();
  const ms = performance.now() - t0;
  // The pipes may deliver their last bytes after 'exit' (bounded: a forked daemon could hold them).
  const ended = (s: NodeJS.ReadableStream | null) =>
    !s || (s as unknown as { readableEnded: boolean }).readableEnded
      ? Promise.resolve()
      : new Promise<void>((r) => s.once('close', () => r()));
  await Promise.race([Promise.all([ended(p.child.stdout), ended(p.child.stderr)]), new Promise((r) => setTimeout(r, 2000).unref())]);
  if (status.code !== 0) throw new Error(`${p.name} failed (${JSON.stringify(status)}):\n${p.stderr.trim()}\n${p.stdout.trim()}`);
  return { ms, stdout: p.stdout };
}

const detachedChildren = new Set<ChildProcess>();

/**
 * Spawn to exit of a command that leaves a process behind holding its stdio
 * (`runc run -d` hands its own stdin/stdout/stderr to the container): stdin
 * is /dev/null and stdout/stderr go to `logFile`, never a pipe to us. Fails
 * on a non-zero exit, with the log's tail.
 */
export async function timedDetached(cmd: string, args: string[], logFile: string): Promise<number> {
  checkInterrupted();
  const fd = fs.openSync(logFile, 'a');
  let status: { code: number | null; signal: NodeJS.Signals | null };
  let ms: number;
  try {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true });
    detachedChildren.add(child);
    status = await new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    ms = performance.now() - t0;
    detachedChildren.delete(child);
  } finally {
    fs.closeSync(fd);
  }
  if (status.code !== 0) {
    const log = fs.readFileSync(logFile, 'utf8');
    throw new Error(`${cmd} ${args.join(' ')} failed (${JSON.stringify(status)}):\n${log.slice(-4000)}`);
  }
  return ms;
}

/** Kills the detached commands still starting (on Ctrl-C), so none creates a container after the cleanup looked. */
export async function killDetachedChildren(): Promise<void> {
  const waits = [...detachedChildren].map(
    (c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(0) : c.once('exit', r))),
  );
  for (const c of detachedChildren) c.kill('SIGKILL');
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5000).unref())]);
}

/** Rows of a table a CLI printed (header first): non-empty lines minus the header. */
export function tableRows(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim())
    .slice(1);
}

/** `runc --root ROOT list` as JSON (runc prints "null" for none); [] when the root does not exist. */
export async function runcList(root: string): Promise<{ id: string; status: string; bundle: string }[]> {
  if (!fs.existsSync(root)) return [];
  const { stdout } = await runCommand('runc', ['--root', root, 'list', '--format', 'json'], { timeout: 30_000 });
  return (JSON.parse(stdout) as { id: string; status: string; bundle: string }[] | null) ?? [];
}

/**
 * The runc-level safety net: `runc delete -f` of every container in
 * `runcRoot` whose bundle is below `marker` (the run's dir; podman's root may
 * be the shared /run/runc), so runc kills it and removes its cgroups and
 * state; then SIGKILL for the monitor processes (`monitorComm`, e.g. conmon)
 * whose argv mentions `marker`. Returns how many of each it found.
 */
export async function forceCleanupRunc(
  runcRoot: string,
  monitorComm: string | undefined,
  marker: string,
): Promise<{ containers: number; monitors: number }> {
  let containers = 0;
  for (let round = 0; round < 3; round++) {
    const left = (await runcList(runcRoot).catch(() => [])).filter((c) => c.bundle.startsWith(marker + '/'));
    if (left.length === 0) break;
    containers = Math.max(containers, left.length);
    for (const c of left) await runCommand('runc', ['--root', runcRoot, 'delete', '-f', c.id], { timeout: 30_000 }).catch(() => undefined);
  }
  if (!monitorComm) return { containers, monitors: 0 };
  const monitors = matching(await listProcesses(), monitorComm, marker).map((p) => p.pid);
  if (monitors.length) {
    // Their containers are gone, so a monitor left now only has its exit to record.
    await new Promise((r) => setTimeout(r, 500));
    killPids(matching(await listProcesses(), monitorComm, marker).map((p) => p.pid));
  }
  return { containers, monitors: monitors.length };
}

/** Reports what a safety net had to clean up: after a normal run it finds nothing. */
export function noteLeftovers(tool: string, found: { containers: number; monitors: number }): void {
  if (found.containers || found.monitors) {
    process.stderr.write(`cleanup: ${tool} had ${found.containers} container(s) and ${found.monitors} monitor process(es) left; removed\n`);
  }
}

/**
 * The parent cgroups the runtimes make below each hierarchy's root (runc
 * creates them for containerd's `/default/<id>`, podman's `/libpod_parent/…`
 * and gantry's `/gantry/<id>`) and leave behind, empty, when the containers
 * go. Call before anything starts: it notes which already exist, and the
 * returned function removes, deepest first, only those this run created.
 * rmdir fails on a cgroup still in use, so nothing anyone else uses goes.
 */
export function cgroupParentsCreatedHere(rel: readonly string[]): () => Promise<void> {
  const root = '/sys/fs/cgroup';
  const hierarchies = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .map((h) => path.join(root, h))
        .filter((d) => fs.statSync(d).isDirectory())
    : [];
  const candidates = hierarchies.flatMap((h) => rel.map((r) => path.join(h, r)));
  const existed = new Set(candidates.filter((d) => fs.existsSync(d)));
  return async () => {
    for (const dir of candidates.filter((d) => !existed.has(d)).sort((a, b) => b.length - a.length)) {
      await fs.promises.rmdir(dir).catch(() => undefined);
    }
  };
}

/**
 * Removes the (empty) cgroup `<hierarchy>/<parent>/<id>` of each id in every
 * hierarchy. For a container whose `runc create` was cut off (its manager
 * killed on Ctrl-C): runc had made the cgroups but not yet the state that
 * `runc delete` would clean up from. rmdir refuses a cgroup still in use.
 */
export async function removeEmptyCgroups(parent: string, ids: readonly string[]): Promise<void> {
  const root = '/sys/fs/cgroup';
  if (!ids.length || !fs.existsSync(root)) return;
  for (const h of await fs.promises.readdir(root)) {
    for (const id of ids) await fs.promises.rmdir(path.join(root, h, parent, id)).catch(() => undefined);
  }
}
