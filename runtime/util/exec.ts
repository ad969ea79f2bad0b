/**
 * Running the network tools (CNI plugins, unshare, nsenter, ip, iptables):
 * always argv, never a shell string; stdin written and closed; stdout and
 * stderr captured whatever the exit status, because a CNI plugin reports its
 * error as JSON on stdout with a non-zero exit (docs/networking.md).
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly signal?: AbortSignal;
}

export interface RunResult {
  /** Exit status; null when killed by a signal. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawn failure (ENOENT, EACCES): the tool is not there or not executable. */
export class SpawnError extends Error {
  override readonly name = 'SpawnError';
  constructor(
    readonly file: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(`cannot run ${file}: ${code}`, { cause });
  }
}

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? { ...process.env, LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') return reject(e);
      reject(new SpawnError(file, e.code ?? 'error', e));
    });
    child.once('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A plugin that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** run(), but a non-zero exit rejects with an Error naming argv and stderr. */
export async function runOk(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const r = await run(file, args, options);
  if (r.code !== 0) {
    throw new Error(`${[file, ...args].join(' ')} failed (exit ${String(r.code)}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r;
}
