/** Small filesystem helpers shared across components. */
import * as fs from 'node:fs';

/** fs.read of `length` bytes at `position` into the start of `buf`, as a promise of the bytes read (0: at the end). */
export function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, length, position, (e, n) => (e ? reject(e) : resolve(n))));
}

/** The entries of `dir`, or [] when it does not exist (yet). */
export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
