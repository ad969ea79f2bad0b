/**
 * Crash-safe small-file writes: write a temp file beside the target, fsync it,
 * rename it over the target, fsync the directory. After a crash at any point
 * the target holds either the old bytes or the new ones, never a mix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /**
   * Skip the fsyncs: readers still never see a half-written file (the rename
   * is atomic), but after a power loss the file may be empty or old. For
   * files under the state dir, which a reboot wipes and gantryd regenerates.
   */
  readonly durable?: boolean;
}

export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  mode = 0o644,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.promises.open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fs.promises.rename(tmp, target);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  if (durable) await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
