/**
 * OCI runtime-spec (config.json) types: the subset gantryd writes for runc.
 *
 * Field names and JSON shapes follow runtime-spec v1.0.2 (config.md,
 * config-linux.md; Go bindings in specs-go/config.go), which is what runc
 * 1.1 reads. Everything optional in the spec is optional here, so a spec
 * read back from disk (recovery, `inspect`) type-checks too. Types only, no
 * I/O: oci/specgen/build.ts builds a Spec, tasks/ writes it into the bundle.
 *
 * Not modelled (we never emit them): hooks other than the plain list,
 * SELinux labels, intelRdt, personality, Windows/Solaris/VM sections.
 */

/** What runc 1.1.5 reports as `spec:` in `runc --version`. */
export const OCI_VERSION = '1.0.2-dev';

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  /** Mounted in order, after the root; a parent must come before its children. */
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Root {
  /** Absolute, or relative to the bundle. */
  path: string;
  readonly?: boolean;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  /** argv; args[0] is looked up in the container's PATH by runc. */
  args?: string[];
  /** KEY=VALUE. */
  env?: string[];
  /** Absolute path inside the container. */
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

/** Capability names carry the CAP_ prefix ("CAP_CHOWN"). */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Rlimit {
  /** "RLIMIT_NOFILE" … */
  type: string;
  hard: number;
  soft: number;
}

export interface Mount {
  /** Absolute path inside the container. */
  destination: string;
  /** Filesystem type ("proc", "tmpfs", "bind" …). */
  type?: string;
  /** A device, a host path for binds, or a name for pseudo filesystems. */
  source?: string;
  /** fstab-style options plus runc's extras (rbind, rprivate …). */
  options?: string[];
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';

export interface Namespace {
  type: NamespaceType;
  /** Join this namespace (/proc/<pid>/ns/…) instead of creating one. */
  path?: string;
}

export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A device node runc creates in the container's /dev. */
export interface Device {
  path: string;
  /** "c", "b", "u" or "p". */
  type: string;
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** A devices-cgroup rule; without type/major/minor it matches every device. */
export interface DeviceCgroup {
  allow: boolean;
  /** "a", "c" or "b". */
  type?: string;
  major?: number;
  minor?: number;
  /** Some of "r", "w", "m". */
  access?: string;
}

export interface Memory {
  /** Bytes. */
  limit?: number;
  reservation?: number;
  /** Memory + swap, bytes (cgroup v1 memsw). */
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
}

export interface Cpu {
  shares?: number;
  /** Microseconds of CPU time per period. */
  quota?: number;
  /** Microseconds. */
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface Pids {
  /** Max processes; -1 (or absent section) = unlimited. */
  limit: number;
}

export interface Resources {
  devices?: DeviceCgroup[];
  memory?: Memory;
  cpu?: Cpu;
  pids?: Pids;
  hugepageLimits?: HugepageLimit[];
  unified?: Record<string, string>;
}

export interface HugepageLimit {
  /** "2MB", "1GB". */
  pageSize: string;
  /** Bytes. */
  limit: number;
}

export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave' | 'unbindable' | 'runbindable';

export interface Linux {
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  sysctl?: Record<string, string>;
  resources?: Resources;
  /** Relative paths are placed under runc's own cgroup; absolute ones under each controller's root. */
  cgroupsPath?: string;
  namespaces?: Namespace[];
  devices?: Device[];
  rootfsPropagation?: Propagation;
  /** Paths over which runc mounts /dev/null (files) or an empty read-only tmpfs (directories). */
  maskedPaths?: string[];
  /** Paths runc bind-mounts read-only over themselves. */
  readonlyPaths?: string[];
  mountLabel?: string;
  /** Without it runc installs no filter (`Seccomp: 0` in /proc/PID/status). */
  seccomp?: Seccomp;
}

/** libseccomp's action names; runc 1.1 knows these. */
export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT' | 'SCMP_CMP_MASKED_EQ';

/** A test of one syscall argument; SCMP_CMP_MASKED_EQ means `(arg & value) == valueTwo`. */
export interface SeccompArg {
  /** 0–5. */
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface SeccompSyscall {
  /** Names libseccomp does not know are skipped by runc. */
  names: string[];
  action: SeccompAction;
  /** The errno of SCMP_ACT_ERRNO / SCMP_ACT_TRACE (default EPERM). */
  errnoRet?: number;
  /** All must match (AND). */
  args?: SeccompArg[];
}

/** config-linux.md "Seccomp": the filter runc loads before the process's execve. */
export interface Seccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** "SCMP_ARCH_X86_64" …; the native one first. */
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: SeccompSyscall[];
}
