/**
 * The OCI runtime spec (config.json) of a container: the user's
 * ContainerConfig over the image's runtime config, made into what runc runs,
 * the way Docker makes it (moby daemon/commit.go merge, daemon/create.go,
 * daemon/oci_linux.go, oci/defaults.go). Pure: the caller does the I/O first
 * — resolves the user in the rootfs (user.ts), writes the /etc files
 * (etcfiles.ts), reads the host's RLIMIT_NOFILE hard limit, hostname and
 * capability bounding set — and writes the result into the bundle.
 *
 * Docker rules kept here, with where they differ from a naive merge:
 * - Command: `entrypoint` set (even to []) replaces the image's Entrypoint
 *   *and* drops the image's Cmd; `cmd` non-empty replaces the image's Cmd.
 *   Nothing left → InvalidArgument "no command specified".
 * - Env: PATH (default if nobody sets it), HOSTNAME, TERM=xterm with a tty,
 *   then the user's env, then the image's keys the user did not set. A bare
 *   `KEY` (no `=`) unsets KEY. Repeated keys: the last value wins. HOME from
 *   the passwd entry when nobody set it (runc would do the same).
 * - Hostname: the first 12 characters of the ID, or with network `host` the
 *   host's own name. The UTS namespace stays private either way, so a
 *   container cannot rename the host (Docker does the same; only
 *   `--uts=host`, which we do not offer, would share it).
 * - Network `host` shares the host's network namespace (no `network` entry)
 *   and gets no network sysctls; `none` gets a new one with only loopback
 *   (runc brings lo up) and Docker's ping/low-port sysctls.
 * - Capabilities: Docker's default set ± cap-add/cap-drop, in bounding,
 *   effective and permitted; inheritable and ambient stay empty (Docker ≥
 *   20.10.14), so a non-root process loses them at exec as it should.
 * - Resources: memory limit (memory+swap = 2× when the host accounts swap,
 *   Docker's default), CPU quota per 100 ms period from NanoCPUs, pids
 *   limit, devices: deny all but Docker's list. RLIMIT_NOFILE soft = hard =
 *   min(1048576, host hard): runc here lacks CAP_SYS_RESOURCE and cannot
 *   raise a limit above the hard one.
 * - Sysctls (CRI pods): the config's, over the network defaults above.
 *   Masked and read-only paths: Docker's lists, or the config's when it
 *   has some (a CRI security context's replace them).
 * - Seccomp: Docker's default allowlist, opened per capability
 *   (seccomp/), unless unconfined, custom or privileged; AppArmor:
 *   gantry-default where the host has it (apparmor/); no_new_privs as
 *   asked (the daemon's default was filled in at create).
 */
import * as path from 'node:path';
import { internal, invalidArgument } from '../../errdefs/errdefs';
import type { ContainerConfig as ImageRuntimeConfig } from '../manifest';
import { OCI_VERSION, type DeviceCgroup, type Namespace, type Resources, type Spec } from '../spec';
import { apparmorFor } from './apparmor/apparmor';
import { tweakCapabilities } from './capabilities';
import type { BindMount, ContainerConfig } from '../../containers/containers';
import { containerMounts, rootfsPropagationOf, type EtcFilePaths } from './mounts';
import { validateHostname } from '../../options';
import { shortId } from '../../presentation';
import { seccompFor } from './seccomp/resolve';
import type { Target } from './seccomp/seccomp';
import type { ResolvedUser } from './user';

export type { EtcFilePaths } from './mounts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Docker's NOFILE ceiling for containers (what dockerd gets from systemd's LimitNOFILE). */
export const MAX_NOFILE = 1_048_576;

/** Docker refuses memory limits below this. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const CPU_PERIOD_US = 100_000;

export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const chr = (major: number, minor: number | undefined): DeviceCgroup =>
  minor === undefined ? { allow: true, type: 'c', major, access: 'rwm' } : { allow: true, type: 'c', major, minor, access: 'rwm' };

/** Deny everything, then Docker's list (null, zero, full, random, urandom, tty, console, ptmx, pts/*); FUSE stays denied. */
export function defaultDeviceRules(): DeviceCgroup[] {
  return [
    { allow: false, access: 'rwm' },
    chr(1, 5),
    chr(1, 3),
    chr(1, 9),
    chr(1, 8),
    chr(5, 0),
    chr(5, 1),
    chr(1, 7),
    chr(5, 2),
    chr(136, undefined),
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
  ];
}

export interface SpecInput {
  readonly id: string;
  readonly config: ContainerConfig;
  /** The image config's `config` (User, Env, Entrypoint, Cmd, WorkingDir …); {} for none. */
  readonly image: ImageRuntimeConfig;
  /** From resolveUser(rootfs, userSpecOf(config, image)). */
  readonly user: ResolvedUser;
  /** Absolute path of the mounted root filesystem. */
  readonly rootfs: string;
  /** From writeEtcFiles. */
  readonly etcFiles: EtcFilePaths;
  /** e.g. `/gantry/<id>`. */
  readonly cgroupsPath: string;
  /** The daemon's hard RLIMIT_NOFILE (Infinity for unlimited). */
  readonly nofileHardLimit: number;
  /** The host's name: the default hostname with network `host`. */
  readonly hostHostname?: string;
  /** Capabilities the daemon holds (its CapBnd); what cap-add ALL grants. Default: all the kernel table has. */
  readonly hostCapabilities?: readonly string[];
  /** The host accounts swap (cgroup v1 memory.memsw.*): then a memory limit also caps memory+swap at 2×, as Docker. */
  readonly swapAccounting?: boolean;
  /** The host has AppArmor enabled (apparmor/host.ts); default: no. */
  readonly apparmor?: boolean;
  /** Architecture and kernel the seccomp profile is resolved for; default: this host's. */
  readonly seccompTarget?: Target;
  /**
   * A namespace for runc to join: a CNI network's namespace file, or with
   * `container:` the target's `/proc/<pid>/ns/net` (docs/networking.md);
   * absent: a new namespace (none) or the host's.
   */
  readonly netnsPath?: string;
  /** The container's volumes, as binds of their host directories (docs/volumes.md). */
  readonly volumeBinds?: readonly BindMount[];
  /** `container:` IPC/PID/UTS modes: the target's `/proc/<pid>/ns/<type>` to join. */
  readonly namespacePaths?: { readonly ipc?: string; readonly pid?: string; readonly uts?: string };
}

/** A private namespace, a joined one (`path`), or none at all with mode `host` (the host's). */
function namespaceOf(type: 'ipc' | 'pid' | 'uts', mode: string | undefined, joined: string | undefined): Namespace[] {
  if (mode === 'host') return [];
  if (mode?.startsWith('container:')) {
    if (!joined) throw internal(`buildSpec: no ${type} namespace path for ${mode}`);
    return [{ type, path: joined }];
  }
  return [{ type }];
}

/** The process argv: Docker's entrypoint/cmd resolution (see the file comment). */
export function resolveArgs(config: Pick<ContainerConfig, 'entrypoint' | 'cmd'>, image: ImageRuntimeConfig): string[] {
  const userCmd = config.cmd ?? [];
  let entrypoint: readonly string[];
  let cmd: readonly string[];
  if (config.entrypoint !== undefined) {
    entrypoint = config.entrypoint;
    cmd = userCmd;
  } else {
    entrypoint = image.Entrypoint ?? [];
    cmd = userCmd.length > 0 ? userCmd : (image.Cmd ?? []);
  }
  // `--entrypoint ""` reaches the daemon as [""]: it clears the entrypoint.
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw invalidArgument('no command specified: the image has no Entrypoint or Cmd and none was given');
  return args;
}

/** The user spec to resolve: the container's, else the image's (Docker's merge). */
export function userSpecOf(config: Pick<ContainerConfig, 'user'>, image: ImageRuntimeConfig): string {
  return config.user || image.User || '';
}

/** The container's hostname: the configured one, else the host's with network host, else the ID's first 12 characters. */
export function containerHostname(id: string, config: Pick<ContainerConfig, 'hostname' | 'network'>, hostHostname?: string): string {
  if (config.hostname) return validateHostname(config.hostname);
  if (config.network === 'host' && hostHostname) return hostHostname;
  return shortId(id);
}

const keyOf = (e: string) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);

/** The process environment (rules in the file comment). */
export function containerEnv(opts: {
  image: readonly string[];
  user: readonly string[];
  hostname: string;
  tty: boolean;
  home: string;
}): string[] {
  for (const e of [...opts.user, ...opts.image]) {
    if (keyOf(e) === '') throw invalidArgument(`invalid environment variable ${JSON.stringify(e)}: name cannot be empty`);
    if (e.includes('\0')) throw invalidArgument(`invalid environment variable ${JSON.stringify(e)}: contains NUL`);
  }
  const userKeys = new Set(opts.user.map(keyOf));
  const merged = opts.user.length === 0 ? [...opts.image] : [...opts.user, ...opts.image.filter((e) => !userKeys.has(keyOf(e)))];
  // A Map keeps first-insertion order and lets a later value replace an earlier one in place.
  const env = new Map<string, string | undefined>([
    ['PATH', DEFAULT_PATH],
    ['HOSTNAME', opts.hostname],
  ]);
  if (opts.tty) env.set('TERM', 'xterm');
  for (const e of merged) {
    const eq = e.indexOf('=');
    if (eq < 0) env.set(e, undefined);
    else env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  if (!env.has('HOME') || env.get('HOME') === undefined) env.set('HOME', opts.home);
  return [...env].filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
}

function workingDir(config: ContainerConfig, image: ImageRuntimeConfig): string {
  const wd = config.workingDir || image.WorkingDir || '/';
  if (!path.posix.isAbsolute(wd)) throw invalidArgument(`the working directory '${wd}' is invalid, it needs to be an absolute path`);
  return path.posix.normalize(wd).replace(/(.)\/+$/, '$1');
}

function resources(config: ContainerConfig, swapAccounting: boolean): Resources {
  const r: Resources = { devices: defaultDeviceRules() };
  const { memoryBytes, nanoCpus, pidsLimit } = config;
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes < 0) throw invalidArgument(`invalid memory limit ${memoryBytes}`);
  if (memoryBytes > 0) {
    if (memoryBytes < MIN_MEMORY_BYTES) throw invalidArgument('minimum memory limit allowed is 6MB');
    r.memory = swapAccounting ? { limit: memoryBytes, swap: 2 * memoryBytes } : { limit: memoryBytes };
  }
  if (!Number.isSafeInteger(nanoCpus) || nanoCpus < 0) throw invalidArgument(`invalid CPU limit ${nanoCpus}`);
  if (nanoCpus > 0) {
    const quota = Math.floor(nanoCpus / (1e9 / CPU_PERIOD_US));
    // The kernel refuses a CFS quota under 1 ms.
    if (quota < 1000) throw invalidArgument(`CPU limit ${nanoCpus / 1e9} is too small: the minimum is 0.01`);
    r.cpu = { quota, period: CPU_PERIOD_US };
  }
  if (!Number.isSafeInteger(pidsLimit)) throw invalidArgument(`invalid pids limit ${pidsLimit}`);
  if (pidsLimit > 0) r.pids = { limit: pidsLimit };
  const extra = config.cgroupResources;
  if (extra?.memory) r.memory = { ...r.memory, ...extra.memory };
  if (extra?.cpu) r.cpu = { ...r.cpu, ...extra.cpu };
  if (extra?.hugepageLimits?.length) r.hugepageLimits = [...extra.hugepageLimits];
  if (extra?.unified && Object.keys(extra.unified).length) r.unified = { ...extra.unified };
  return r;
}

export function buildSpec(input: SpecInput): Spec {
  const { id, config, image, user } = input;
  if (!id) throw internal('buildSpec: empty container id');
  if (!path.posix.isAbsolute(input.rootfs)) throw internal(`buildSpec: rootfs ${input.rootfs} is not absolute`);
  const hard = input.nofileHardLimit;
  if (!(hard >= 1)) throw internal(`buildSpec: invalid host RLIMIT_NOFILE hard limit ${hard}`);
  const nofile = Math.min(MAX_NOFILE, Math.floor(hard));

  const hostname = containerHostname(id, config, input.hostHostname);
  const hostNetwork = config.network === 'host';
  const caps = tweakCapabilities(config.capAdd, config.capDrop, input.hostCapabilities);
  const namespaces: Namespace[] = [
    { type: 'mount' },
    ...(hostNetwork ? [] : [(input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' }) as Namespace]),
    ...namespaceOf('uts', config.utsMode, input.namespacePaths?.uts),
    ...namespaceOf('pid', config.pidMode, input.namespacePaths?.pid),
    ...namespaceOf('ipc', config.ipcMode, input.namespacePaths?.ipc),
  ];

  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: config.tty,
      user: { uid: user.uid, gid: user.gid, additionalGids: [...new Set([user.gid, ...user.additionalGids])] },
      args: resolveArgs(config, image),
      env: containerEnv({ image: image.Env ?? [], user: config.env, hostname, tty: config.tty, home: user.home }),
      cwd: workingDir(config, image),
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: config.noNewPrivileges ?? false,
      ...optional('apparmorProfile', apparmorFor(config, input.apparmor ?? false)),
      ...optional('oomScoreAdj', config.oomScoreAdj),
    },
    root: { path: input.rootfs, readonly: config.readOnlyRootfs },
    // The host's UTS namespace keeps the host's name (runc refuses to set one there).
    ...(config.utsMode === 'host' ? {} : { hostname }),
    mounts: containerMounts([...config.mounts, ...(input.volumeBinds ?? [])], config.tmpfs, input.etcFiles, config.readOnlyRootfs),
    linux: {
      // Docker's defaults for a private network namespace: ping without CAP_NET_RAW, any port without CAP_NET_BIND_SERVICE
      // (not for another container's namespace, `container:`, which is that container's to set).
      sysctl: {
        ...(hostNetwork || config.network.startsWith('container:')
          ? {}
          : { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' }),
        ...config.sysctls,
      },
      resources: resources(config, input.swapAccounting ?? false),
      cgroupsPath: input.cgroupsPath,
      namespaces,
      maskedPaths: [...(config.maskedPaths?.length ? config.maskedPaths : MASKED_PATHS)],
      readonlyPaths: [...(config.readonlyPaths?.length ? config.readonlyPaths : READONLY_PATHS)],
      ...optional('rootfsPropagation', rootfsPropagationOf(config.mounts)),
      ...optional('seccomp', seccompFor(config, caps, input.seccompTarget)),
    },
  };
}

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
