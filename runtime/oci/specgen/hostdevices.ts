/**
 * Device nodes of the host, read for privileges.ts: what `--device` names
 * (a node, or a directory of nodes) and, for `--privileged`, everything
 * under /dev the way Docker lists it (containerd pkg/oci HostDevices:
 * pts, shm, fd, mqueue and the LXC/udev private dirs skipped, and
 * /dev/console, which runc sets up itself).
 *
 * Errors: InvalidArgument naming the path when a `--device` source is
 * missing or not a device node (Docker's "not a device node").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalidArgument } from '../../errdefs/errdefs';
import type { Device } from '../spec';
import type { DeviceMapping } from '../../containers/containers';
import type { ResolvedDevice } from './privileges';

const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** The device node at `hostPath`, as `containerPath`; undefined when it is not a char or block device. */
export function deviceAt(hostPath: string, containerPath: string): Device | undefined {
  const st = fs.statSync(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  // rdev = major << 8 | minor, with the high bits of each further up (glibc's gnu_dev_major/minor).
  const rdev = BigInt(st.rdev);
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path: containerPath, type, major, minor, fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid };
}

/** Every device under `dir` (recursively), each at the same path below `as`. */
function devicesUnder(dir: string, as: string, skip: (name: string, isDir: boolean) => boolean): Device[] {
  const out: Device[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const hostPath = path.join(dir, entry.name);
    const containerPath = path.posix.join(as, entry.name);
    if (skip(entry.name, entry.isDirectory())) continue;
    if (entry.isDirectory()) out.push(...devicesUnder(hostPath, containerPath, () => false));
    else if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      try {
        const d = deviceAt(hostPath, containerPath);
        if (d) out.push(d);
      } catch {
        // Gone between readdir and stat.
      }
    }
  }
  return out;
}

/** The host's /dev as `--privileged` passes it. */
export function hostDevices(dev = '/dev'): Device[] {
  return devicesUnder(dev, '/dev', (name, isDir) => (isDir ? SKIPPED_DIRS.has(name) : name === 'console'));
}

/** `--device` mappings → the nodes to create (a directory gives every node under it). */
export function resolveDevices(mappings: readonly DeviceMapping[]): ResolvedDevice[] {
  const out: ResolvedDevice[] = [];
  for (const m of mappings) {
    let st: fs.Stats;
    try {
      st = fs.statSync(m.pathOnHost);
    } catch (e) {
      throw invalidArgument(
        `error gathering device information while adding device ${JSON.stringify(m.pathOnHost)}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        e,
      );
    }
    const devices = st.isDirectory()
      ? devicesUnder(m.pathOnHost, m.pathInContainer, () => false)
      : [deviceAt(m.pathOnHost, m.pathInContainer)];
    if (!st.isDirectory() && devices[0] === undefined) {
      throw invalidArgument(`cannot add device ${JSON.stringify(m.pathOnHost)}: not a device node`);
    }
    for (const device of devices) if (device) out.push({ device, permissions: m.cgroupPermissions });
  }
  return out;
}

/** The unified hierarchy is mounted at /sys/fs/cgroup (cgroup v2 only, no hybrid v1 layout). */
export function isCgroupV2(): boolean {
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
}

/**
 * Lets a container whose root is a remapped (unprivileged) host ID reach its
 * bundle: runc sets up mounts from inside the user namespace, where the
 * host's root-owned 0700 directories are closed. The bundle and its etc/
 * become traversable (0711; the files in them stay 0644 or closed), and the
 * root of the rootfs — owned by host root when a layer did not name it —
 * is given to the container's root, as Docker does.
 */
export async function prepareForUserns(bundle: string, rootfs: string, map: { uid: number; gid: number; size: number }): Promise<void> {
  for (const dir of [path.dirname(bundle), bundle, path.join(bundle, 'etc')]) await fs.promises.chmod(dir, 0o711);
  const st = await fs.promises.stat(rootfs);
  const inRange = (id: number, base: number) => id >= base && id < base + map.size;
  if (!inRange(st.uid, map.uid) || !inRange(st.gid, map.gid)) {
    await fs.promises.chown(rootfs, inRange(st.uid, map.uid) ? st.uid : map.uid, inRange(st.gid, map.gid) ? st.gid : map.gid);
  }
}
