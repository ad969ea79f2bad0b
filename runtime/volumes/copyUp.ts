/**
 * Docker's copy-up: a container made with an *empty* volume at a path where
 * its image has a directory copies that directory's content into the
 * volume, and gives the volume's root the directory's owner and mode, so
 * `-v data:/var/lib/app` starts with what the image put there.
 *
 * The path is resolved inside the container's root (links, `..`) by
 * RootedFs, and every component of the result is checked to be a real
 * directory, so an image's link never points the copy at the host. Nothing
 * runs in the container yet at create, so nothing changes under the check.
 * `cp -a` keeps owners, modes, times, xattrs, links (as links), devices and
 * hard links.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { internal } from '../errdefs/errdefs';
import { RootedFs } from '../files/index';

const run = promisify(execFile);

/** True when `dir` has no entries. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  return (await fs.promises.readdir(dir)).length === 0;
}

/**
 * Copies `rootfs`'s content at `containerPath` into `data` when `data` is
 * empty and the image has a directory there. Returns whether it copied.
 */
export async function copyUp(rootfs: string, containerPath: string, data: string): Promise<boolean> {
  if (!(await isEmptyDir(data))) return false;
  const root = await RootedFs.open(rootfs, 'the image');
  let real: string;
  try {
    const info = await root.stat(containerPath, true).catch(() => undefined);
    if (info?.type !== 'directory') return false;
    real = await root.realPath(containerPath);
  } finally {
    await root.close();
  }
  let source = rootfs;
  for (const part of real.split('/').filter((p) => p !== '')) {
    source = path.join(source, part);
    const st = await fs.promises.lstat(source);
    if (!st.isDirectory()) return false;
  }
  const st = await fs.promises.lstat(source);
  try {
    await run('cp', ['-a', '--', `${source}/.`, `${data}/`]);
    await fs.promises.chown(data, st.uid, st.gid);
    await fs.promises.chmod(data, st.mode & 0o7777);
  } catch (e) {
    throw internal(`copying the image's ${containerPath} into its volume failed: ${(e as Error).message}`, e);
  }
  return true;
}
