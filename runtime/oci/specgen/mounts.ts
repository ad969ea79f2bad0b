/**
 * The mount list of a container's runtime spec, built the way Docker builds
 * it (moby oci/defaults.go + daemon/oci_linux.go WithMounts):
 *
 * 1. Docker's default filesystems (/proc, /dev, /dev/pts, /sys,
 *    /sys/fs/cgroup, /dev/mqueue, /dev/shm of 64 MiB), in that order — each
 *    parent before its children. A default is dropped when the user mounts
 *    something at the same place, and everything under /dev when the user
 *    mounts /dev itself.
 * 2. Then the *container mounts* — user binds, user tmpfs and the generated
 *    /etc/hosts, /etc/resolv.conf, /etc/hostname (unless the user mounts one
 *    of those paths) — stably sorted by depth of destination, so `/a` is
 *    mounted before `/a/b` whatever order the user gave.
 *
 * Binds are `rbind` + `rprivate` (+ `ro`): recursive, and nothing mounted
 * later on either side propagates to the other. Tmpfs mounts start from
 * Docker's `noexec,nosuid,nodev` and the user's options override them
 * (`exec` beats the default `noexec`; the last `size=` wins), as moby's
 * MergeTmpfsOptions does. With a read-only rootfs the default mounts that
 * are not runtime scratch space (/sys …) get `ro` too, and the generated
 * /etc files are bound read-only.
 *
 * Pure: nothing here touches the filesystem (runc creates mount points and
 * checks that bind sources exist).
 */
import * as path from 'node:path';
import { invalidArgument } from '../../errdefs/errdefs';
import type { Mount } from '../spec';
import type { BindMount, TmpfsMount } from '../../containers/containers';

/** Docker's default --shm-size. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export function defaultMounts(): Mount[] {
  const nosuid = ['nosuid', 'noexec', 'nodev'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: [...nosuid] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nosuid, 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', ...nosuid] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: [...nosuid] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nosuid, 'mode=1777', `size=${DEFAULT_SHM_SIZE}`] },
  ];
}

/** Defaults that stay writable with a read-only rootfs (Docker's list): the kernel's and the runtime's scratch space. */
const WRITABLE_WITH_RO_ROOT = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']);

/** Host files to bind over the container's /etc/hosts, /etc/resolv.conf and /etc/hostname. */
export interface EtcFilePaths {
  readonly hosts: string;
  readonly resolvConf: string;
  readonly hostname: string;
}

// Flag options and what they collide with: the last of a pair wins.
const FLAG_KEYS: Record<string, string> = {
  ro: 'ro',
  rw: 'ro',
  suid: 'suid',
  nosuid: 'suid',
  dev: 'dev',
  nodev: 'dev',
  exec: 'exec',
  noexec: 'exec',
  sync: 'sync',
  async: 'sync',
  dirsync: 'dirsync',
  atime: 'atime',
  noatime: 'atime',
  diratime: 'diratime',
  nodiratime: 'diratime',
  relatime: 'relatime',
  norelatime: 'relatime',
  strictatime: 'strictatime',
  nostrictatime: 'strictatime',
  mand: 'mand',
  nomand: 'mand',
  private: 'propagation',
  rprivate: 'propagation',
  shared: 'propagation',
  rshared: 'propagation',
  slave: 'propagation',
  rslave: 'propagation',
  unbindable: 'propagation',
  runbindable: 'propagation',
};

// key=value options tmpfs takes, with what the value must look like (the kernel's memparse suffixes).
const DATA_OPTIONS: Record<string, RegExp> = {
  size: /^(\d+[kmgtpe]?|\d{1,3}%)$/i,
  nr_blocks: /^\d+[kmgtpe]?$/i,
  nr_inodes: /^\d+[kmgtpe]?$/i,
  mode: /^[0-7]{1,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  mpol: /^(default|prefer|bind|interleave|local)(=(static|relative))?(:[0-9,-]+)?$/,
};

/** Refuses anything that is not a tmpfs option we know, naming it. */
export function validateTmpfsOption(option: string): void {
  if (option === 'defaults' || option in FLAG_KEYS) return;
  const eq = option.indexOf('=');
  const key = eq < 0 ? option : option.slice(0, eq);
  const check = DATA_OPTIONS[key];
  if (!check) throw invalidArgument(`invalid tmpfs option ${JSON.stringify(option)}`);
  if (eq < 0 || !check.test(option.slice(eq + 1))) throw invalidArgument(`invalid value in tmpfs option ${JSON.stringify(option)}`);
}

/**
 * The options of a user tmpfs mount: Docker's defaults (`noexec`, `nosuid`,
 * `nodev`, `rprivate`) overridden by `options`. For each flag pair and each
 * key=value the last one wins; order is otherwise kept.
 */
export function tmpfsOptions(options: readonly string[]): string[] {
  const all = ['noexec', 'nosuid', 'nodev', 'rprivate', ...options];
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const option = all[i];
    validateTmpfsOption(option);
    if (option === 'defaults') continue;
    const key = FLAG_KEYS[option] ?? `data:${option.slice(0, option.indexOf('='))}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.unshift(option);
  }
  return out;
}

/** A clean absolute container path, or InvalidArgument naming `what`. */
export function mountDestination(dest: string, what: string): string {
  if (!dest.startsWith('/')) throw invalidArgument(`${what}: destination ${JSON.stringify(dest)} is not an absolute path`);
  if (dest.includes('\0')) throw invalidArgument(`${what}: destination contains NUL`);
  const clean = path.posix.normalize(dest).replace(/\/+$/, '') || '/';
  if (clean === '/') throw invalidArgument(`${what}: destination can't be '/'`);
  return clean;
}

const depth = (dest: string) => dest.split('/').length;

/**
 * The propagation of the container's root mount. runc's default is
 * `rslave`: a mount made inside the container never reaches the host, so a
 * bind mount's own `rshared` would act as `rslave`. The root follows the
 * widest bind mount, as containerd's CRI and Docker set it.
 */
export function rootfsPropagationOf(binds: readonly BindMount[]): 'rshared' | 'rslave' | undefined {
  if (binds.some((b) => b.propagation === 'rshared')) return 'rshared';
  if (binds.some((b) => b.propagation === 'rslave')) return 'rslave';
  return undefined;
}

/** All mounts of the container, in the order runc must mount them (rules in the file comment). */
export function containerMounts(
  binds: readonly BindMount[],
  tmpfs: readonly TmpfsMount[],
  etc: EtcFilePaths,
  readOnlyRootfs: boolean,
): Mount[] {
  const user: Mount[] = [];
  const taken = new Set<string>();
  const claim = (dest: string) => {
    if (taken.has(dest)) throw invalidArgument(`duplicate mount point: ${dest}`);
    taken.add(dest);
  };
  for (const b of binds) {
    const what = `bind mount ${b.source}:${b.destination}`;
    const destination = mountDestination(b.destination, what);
    if (!path.posix.isAbsolute(b.source)) throw invalidArgument(`${what}: source must be an absolute host path`);
    claim(destination);
    user.push({
      destination,
      type: 'bind',
      source: path.posix.normalize(b.source).replace(/(.)\/+$/, '$1'),
      options: ['rbind', ...(b.readOnly ? ['ro'] : []), b.propagation ?? 'rprivate'],
    });
  }
  for (const t of tmpfs) {
    const destination = mountDestination(t.destination, `tmpfs mount ${t.destination}`);
    claim(destination);
    user.push({ destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(t.options) });
  }
  const userDests = new Set(taken);
  const generated: [string, string][] = [
    ['/etc/resolv.conf', etc.resolvConf],
    ['/etc/hostname', etc.hostname],
    ['/etc/hosts', etc.hosts],
  ];
  for (const [destination, source] of generated) {
    if (userDests.has(destination)) continue;
    user.push({ destination, type: 'bind', source, options: ['rbind', 'rprivate', ...(readOnlyRootfs ? ['ro'] : [])] });
  }

  const userDev = userDests.has('/dev');
  const defaults = defaultMounts().filter((m) => !userDests.has(m.destination) && !(userDev && m.destination.startsWith('/dev/')));
  if (readOnlyRootfs) {
    for (const m of defaults) {
      if (!WRITABLE_WITH_RO_ROOT.has(m.destination) && !m.options?.includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }
  // Array.prototype.sort is stable: equal depths keep the user's order.
  user.sort((a, b) => depth(a.destination) - depth(b.destination));
  return [...defaults, ...user];
}
