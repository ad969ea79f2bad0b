// Temp dirs and a LIFO cleanup stack for tests that start real processes.
//
// Paths stay short on purpose: unix socket paths are limited to 108 bytes, and
// tests put gantryd/conmon/attach sockets inside these dirs.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

type CleanupFn = () => unknown; // may return a promise, which is awaited

/** A stack of teardown steps, run newest first (stop a process before removing its dir). */
export class Cleanup {
  private readonly steps: CleanupFn[] = [];

  defer(fn: CleanupFn): void {
    this.steps.push(fn);
  }

  /** Runs every step even if some fail; throws one error naming all failures. */
  async runAll(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const fn = this.steps.pop()!;
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanup steps failed`);
  }
}

/**
 * A Cleanup bound to the current mocha suite: its steps run in that suite's
 * `after` hook. Call it at describe() level, not inside a test.
 */
export function suiteCleanup(): Cleanup {
  const cleanup = new Cleanup();
  after(() => cleanup.runAll());
  return cleanup;
}

// Dirs not (yet) removed by a Cleanup are removed when the node process exits,
// so a crashed or interrupted run leaves nothing behind in /tmp.
const liveDirs = new Set<string>();
process.on('exit', () => {
  if (keepTemp()) return;
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function keepTemp(): boolean {
  return process.env.GANTRY_KEEP_TMP === '1';
}

/**
 * Creates /tmp/<prefix>-XXXXXX. Removed by `cleanup` if given, else at process
 * exit. Set GANTRY_KEEP_TMP=1 to keep everything for debugging.
 */
export async function makeTempDir(prefix = 'gt', cleanup?: Cleanup): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  liveDirs.add(dir);
  cleanup?.defer(() => removeTempDir(dir));
  return dir;
}

export async function removeTempDir(dir: string): Promise<void> {
  liveDirs.delete(dir);
  if (keepTemp()) return;
  await fs.promises.rm(dir, { recursive: true, force: true });
}
