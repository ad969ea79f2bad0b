// `gantry cp` as a person runs it (the bundled CLI), with binary stdin and
// stdout (a tar archive goes through them with `-`), and the daemon's
// memory as /proc tells it, for the tests that stream large files.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { GANTRY_JS } from './daemon';

export interface CpResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** `node dist/gantry.js --socket SOCKET ARGS…`, stdin from `input` (a buffer or a file), stdout kept as bytes. */
export function gantryBytes(socket: string, args: readonly string[], input?: Buffer | string): Promise<CpResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GANTRY_JS, '--socket', socket, ...args], {
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    if (Buffer.isBuffer(input)) child.stdin!.end(input);
    else if (typeof input === 'string') fs.createReadStream(input).pipe(child.stdin!);
  });
}

/** A process's resident and peak resident memory (KiB), from /proc/PID/status. */
export function memoryOf(pid: number): { rssKiB: number; hwmKiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/**
 * Resets the peak (VmHWM) to the current resident size (`5` to clear_refs,
 * Linux ≥ 4.0), so a peak read afterwards is what the work in between cost.
 */
export function resetPeakMemory(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
