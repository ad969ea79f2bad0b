/**
 * Linux capabilities for containers: the kernel's table, Docker's default
 * set, and `--cap-add` / `--cap-drop` applied the way Docker applies them
 * (moby oci/caps TweakCapabilities):
 *
 * - names are accepted with or without `CAP_`, in any case; "ALL" means every
 *   capability;
 * - cap-add ALL: every capability except those dropped;
 * - otherwise cap-drop ALL: only what is added;
 * - otherwise: the defaults minus the drops, plus the adds.
 *
 * "Every capability" is the kernel's table, narrowed to what the daemon
 * itself holds when the caller says so (`available`, from its CapBnd): runc
 * cannot grant a capability it does not have (this host's bounding set lacks
 * CAP_SYS_RESOURCE, for instance), and cap-add ALL should still start.
 * Pure functions, no I/O.
 */
import { invalidArgument } from '../../errdefs/errdefs';

/** Index = capability number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE (Linux 5.9). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby oci/caps/defaults.go), in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const KNOWN = new Set(ALL_CAPABILITIES);

/** `net_admin`, `CAP_NET_ADMIN` → `CAP_NET_ADMIN`; `all` → `ALL`; anything else is InvalidArgument naming it. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN.has(full)) throw invalidArgument(`unknown capability: ${JSON.stringify(name)}`);
  return full;
}

/**
 * The capability set of a container (CAP_ names, no duplicates): Docker's
 * defaults with `add` and `drop` applied (rules in the file comment).
 * `available` limits what "ALL" expands to.
 */
export function tweakCapabilities(
  add: readonly string[],
  drop: readonly string[],
  available: readonly string[] = ALL_CAPABILITIES,
): string[] {
  const adds = add.map(normalizeCapability);
  const drops = drop.map(normalizeCapability);
  let caps: string[];
  if (adds.includes('ALL')) {
    const have = new Set(available);
    caps = ALL_CAPABILITIES.filter((c) => have.has(c) && !drops.includes(c));
  } else if (drops.includes('ALL')) {
    caps = adds;
  } else {
    caps = [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
  }
  return [...new Set(caps)];
}

/**
 * The capabilities set in a /proc/<pid>/status mask (`CapBnd:
 * 000001fffeffffff`), as CAP_ names; bits past the known table are ignored.
 */
export function capabilitiesFromMask(hex: string): string[] {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex.trim())) throw invalidArgument(`invalid capability mask ${JSON.stringify(hex)}`);
  const mask = BigInt(`0x${hex.trim()}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}
