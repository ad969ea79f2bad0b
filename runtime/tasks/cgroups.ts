/**
 * Finding and removing the cgroups of a half-made task.
 *
 * Normally runc owns a task's cgroups: `runc create` makes them and `runc
 * delete` removes them. A `runc create` that is killed mid-way (conmon.ts
 * does that to a create that hangs, e.g. in a hook) has already moved its
 * `runc init` into the task's cgroups but not yet written the state that
 * `runc delete` needs, so the directories would stay forever. Before such a
 * kill the caller notes where the task's processes are (`cgroupDirsOf`) and
 * afterwards removes those directories (`removeCgroupDirs`).
 *
 * Works for v1, v2 and the hybrid layout: each /proc/<pid>/cgroup line is
 * mapped to the cgroup(2) mount that carries its controllers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMountInfo } from '../mount/mounter';

/** Absolute cgroup directories (one per hierarchy) that `pid` is in; [] when it is gone. */
export async function cgroupDirsOf(pid: number): Promise<string[]> {
  let text: string;
  try {
    text = await fs.promises.readFile(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return [];
  }
  const mounts = (await readMountInfo()).filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2');
  const dirs: string[] = [];
  for (const line of text.split('\n')) {
    // "hierarchy-id:controller,list:/path"; the path may itself contain ':'.
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, hierarchy, controllers, cgPath] = m;
    const mount =
      hierarchy === '0'
        ? mounts.find((x) => x.fsType === 'cgroup2')
        : mounts.find((x) => x.fsType === 'cgroup' && controllers.split(',').every((c) => x.superOptions.split(',').includes(c)));
    if (mount) dirs.push(path.join(mount.mountPoint, cgPath));
  }
  return dirs;
}

/**
 * Removes the given (empty) cgroup directories, children first. A directory
 * that still holds processes is kept (the kernel refuses with EBUSY; killed
 * processes get `waitMs` to leave); a missing one is fine.
 */
export async function removeCgroupDirs(dirs: readonly string[], waitMs = 2000): Promise<void> {
  const until = Date.now() + waitMs;
  for (const dir of [...new Set(dirs)].sort((a, b) => b.length - a.length)) {
    for (;;) {
      try {
        await fs.promises.rmdir(dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }
}
