/**
 * Seccomp profiles: which system calls a container's processes may make.
 *
 * Terms
 * - A *profile* is a table in Docker's JSON format (moby
 *   profiles/seccomp/default.json; `--security-opt seccomp=FILE` takes the
 *   same format): a default action, the architectures it covers, and
 *   *rules*. A rule names syscalls, an action (allow, or fail with an errno),
 *   optional argument tests, and *conditions*: `includes` (every listed
 *   capability held, the architecture listed, the kernel at least
 *   `minKernel`) and `excludes` (none of the listed capabilities held, the
 *   architecture not listed). A rule whose conditions fail is left out.
 * - A *target* is what a profile is resolved for: the host's architecture
 *   (Go's names, as Docker's conditions use them: `amd64`, `arm64`) and its
 *   kernel version.
 * - *Resolving* a profile for a container's capability set and a target
 *   gives the OCI `linux.seccomp` section runc loads: the native
 *   architecture with its sub-architectures (x86_64 with x86 and x32;
 *   aarch64 with arm), and the rules whose conditions hold, in order.
 *
 * Rules
 * - Every container gets DEFAULT_PROFILE (defaultProfile.ts) unless it runs
 *   `--security-opt seccomp=unconfined`, gives a profile of its own, or is
 *   privileged (then no filter at all, as Docker).
 * - The default profile is an allowlist: anything not allowed fails with
 *   EPERM (`defaultErrnoRet` 1), except clone3, which fails with ENOSYS so
 *   that libc falls back to clone, whose namespace flags can be filtered.
 * - Capabilities open what they stand for: a container given CAP_SYS_ADMIN
 *   may mount, unshare, setns and clone new namespaces; CAP_SYS_PTRACE may
 *   ptrace; and so on (the table says which).
 * - A profile is chosen at create and stored with the container (a custom
 *   one as its JSON text); it is resolved each time the bundle is written,
 *   against the capabilities of that moment.
 * - Syscall names libseccomp does not know (newer than the host's library)
 *   are skipped by runc, and runc makes syscalls newer than any the filter
 *   names return ENOSYS, so one table serves old and new hosts.
 *
 * Pure types here; parse.ts reads Docker's JSON, resolve.ts resolves.
 */
import type { SeccompAction, SeccompOperator } from '../../spec';

export type { SeccompAction, SeccompOperator };

/** Capability names with the CAP_ prefix, as in capabilities.ts. */
export type CapabilityName = string;

/** Go's GOARCH names, which Docker's `includes.arches` / `excludes.arches` use: 'amd64', 'arm64', 'arm', 'x86', 'x32', … */
export type GoArch = string;

export interface ArgTest {
  /** Argument index, 0–5. */
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: SeccompOperator;
}

export interface Condition {
  /** includes: all of these held; excludes: none of them held. */
  readonly caps?: readonly CapabilityName[];
  /** includes: the target's arch is one of these; excludes: it is none of them. */
  readonly arches?: readonly GoArch[];
  /** includes only: "major.minor"; the target's kernel is at least this. */
  readonly minKernel?: string;
}

export interface Rule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  /** All must match. */
  readonly args?: readonly ArgTest[];
  readonly includes?: Condition;
  readonly excludes?: Condition;
  /** Why the rule is there (not sent to runc). */
  readonly comment?: string;
}

export interface ArchMapEntry {
  /** e.g. "SCMP_ARCH_X86_64". */
  readonly architecture: string;
  readonly subArchitectures: readonly string[];
}

export interface Profile {
  readonly defaultAction: SeccompAction;
  readonly defaultErrnoRet?: number;
  /** Old-style flat list; when present it is used as is and archMap is ignored. */
  readonly architectures?: readonly string[];
  readonly archMap?: readonly ArchMapEntry[];
  readonly flags?: readonly string[];
  readonly listenerPath?: string;
  readonly syscalls: readonly Rule[];
}

export interface Target {
  readonly arch: GoArch;
  /** [major, minor] of the running kernel. */
  readonly kernel: readonly [number, number];
}

/** What inspect shows: no filter, ours, or one the user gave. */
export type SeccompMode = 'default' | 'unconfined' | 'custom';

/** `--security-opt seccomp=unconfined`. */
export const UNCONFINED = 'unconfined';
