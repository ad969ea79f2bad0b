/**
 * Finds the external binaries gantryd drives (runc, conmon) and asks each
 * for its version, so `gantry version` can say up front what is missing.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ComponentInfo {
  readonly name: string;
  /** Absolute path, or '' when not found. */
  readonly path: string;
  /** Reported version, or 'missing'. */
  readonly version: string;
}

export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? path.resolve(name) : undefined;
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `runc --version` prints "runc version 1.1.5\ncommit: ..."; conmon prints "conmon version 2.1.6\n...". */
export function parseVersionOutput(output: string): string {
  const match = /version\s+v?([0-9][^\s]*)/i.exec(output);
  return match ? match[1] : output.split('\n')[0].trim() || 'unknown';
}

export async function probeComponent(name: string, binary: string = name): Promise<ComponentInfo> {
  const found = findOnPath(binary);
  if (!found) return { name, path: '', version: 'missing' };
  const output = await new Promise<string>((resolve) => {
    execFile(found, ['--version'], { timeout: 5_000 }, (error, stdout) => resolve(error ? '' : stdout));
  });
  return { name, path: found, version: output ? parseVersionOutput(output) : 'unknown' };
}
