/**
 * The security context of CRI containers and pod sandboxes, mapped onto the
 * one container config (runtime/containers/containers.ts), with the rules
 * of containerd's CRI plugin. docs/cri.md, "Security context".
 *
 * Rules
 * - User: `run_as_username` or `run_as_user`, with `run_as_group` as the
 *   group part; a group alone is InvalidArgument.
 * - Supplemental groups: `supplemental_groups` always; policy `Merge` (the
 *   default) adds the image's /etc/group groups that list the user, even
 *   when a group is given; `Strict` only the listed ones.
 * - Seccomp: `seccomp` (a SecurityProfile), else the deprecated
 *   `seccomp_profile_path` string (`runtime/default`, `docker/default`,
 *   `unconfined`, `localhost/<path>`). Unset is *Unconfined*, the kubelet's
 *   meaning and what containerd does without `unset_seccomp_profile`.
 *   `RuntimeDefault` is gantry's default profile (Docker's); `Localhost` a
 *   Docker/OCI-format JSON profile the daemon reads from the absolute path
 *   `localhost_ref` now — missing or malformed: InvalidArgument naming the
 *   path, before anything is made. Privileged: no filter, no profile read.
 * - AppArmor: `apparmor`, else the deprecated `apparmor_profile` string.
 *   Unset and `RuntimeDefault`: gantry-default where the host has AppArmor
 *   (unconfined when privileged), nothing where it has none; `Unconfined`:
 *   none; `Localhost`: that loaded profile — FailedPrecondition on a host
 *   without AppArmor, InvalidArgument when it is not loaded.
 * - Masked and read-only paths: when the context lists some, they replace
 *   the defaults (an empty list keeps them: proto3 cannot tell empty from
 *   unset); privileged has none.
 * - Privileged: only in a sandbox that is privileged itself (containerd's
 *   rule; a kubelet marks the sandbox of a pod with a privileged container).
 * - Devices: `host_path` → `container_path` with `permissions` (some of
 *   `rwm`; empty = `rwm`); privileged adds every host device as well.
 * - The sandbox's infra process runs as its `run_as_user`[:`run_as_group`]
 *   (numeric: the catatonit root has no /etc/passwd) with its
 *   supplemental groups, as containerd runs the pause process.
 * - Sandbox sysctls: namespaced ones only — `net.*` in a pod network
 *   namespace, the IPC ones (`kernel.shm*`, `kernel.msg*`, `kernel.sem`,
 *   `fs.mqueue.*`) in a pod IPC namespace — set on the infra process, whose
 *   namespaces the pod's containers join.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ContainerConfig, DeviceMapping } from '../containers/containers';
import { failedPrecondition, invalidArgument } from '../errdefs/errdefs';
import { validateProfileName } from '../oci/specgen/apparmor/apparmor';
import { appArmorEnabled } from '../oci/specgen/apparmor/host';
import { isDeviceMode } from '../oci/specgen/privileges';
import { parseProfile } from '../oci/specgen/seccomp/parse';
import { UNCONFINED } from '../oci/specgen/seccomp/seccomp';
import {
  NamespaceMode,
  SecurityProfile_ProfileType as ProfileType,
  SupplementalGroupsPolicy,
  type ContainerConfig as CriContainerConfig,
  type Device,
  type LinuxContainerSecurityContext,
  type PodSandboxConfig,
  type SecurityProfile,
} from './gen/runtime/v1/api';

/** What the host offers; `hostSecurity()` is the real one, tests hand their own. */
export interface SecurityHost {
  readonly apparmorEnabled: boolean;
  /** The AppArmor profile is loaded in the kernel. */
  apparmorLoaded(name: string): boolean;
  /** A Localhost seccomp profile's text (throws as fs does). */
  readFile(file: string): string;
}

const APPARMOR_PROFILES = '/sys/kernel/security/apparmor/profiles';

export function hostSecurity(): SecurityHost {
  return {
    apparmorEnabled: appArmorEnabled(),
    // Lines read `NAME (enforce)`, as containerd checks them.
    apparmorLoaded: (name) =>
      fs
        .readFileSync(APPARMOR_PROFILES, 'utf8')
        .split('\n')
        .some((l) => l.startsWith(`${name} (`)),
    readFile: (file) => fs.readFileSync(file, 'utf8'),
  };
}

/** The container config fields a CRI container's security context sets. */
export type ContainerSecurity = Pick<
  ContainerConfig,
  | 'user'
  | 'privileged'
  | 'readOnlyRootfs'
  | 'capAdd'
  | 'capDrop'
  | 'noNewPrivileges'
  | 'devices'
  | 'supplementalGroups'
  | 'seccompProfile'
  | 'apparmorProfile'
  | 'maskedPaths'
  | 'readonlyPaths'
>;

const q = (s: string) => JSON.stringify(s);

const RUNTIME_DEFAULT = ['runtime/default', 'docker/default'];
const LOCALHOST = 'localhost/';

/** A deprecated profile string as containerd reads it; '' = unset. */
function profileOfString(kind: string, value: string): SecurityProfile | undefined {
  if (value === '') return undefined;
  if (RUNTIME_DEFAULT.includes(value)) return { profileType: ProfileType.RuntimeDefault, localhostRef: '' };
  if (value === UNCONFINED) return { profileType: ProfileType.Unconfined, localhostRef: '' };
  if (value.startsWith(LOCALHOST)) return { profileType: ProfileType.Localhost, localhostRef: value.slice(LOCALHOST.length) };
  throw invalidArgument(`invalid ${kind} profile ${q(value)}: want runtime/default, unconfined or localhost/<name>`);
}

function checked(kind: string, sp: SecurityProfile | undefined): SecurityProfile | undefined {
  if (!sp) return undefined;
  if (sp.profileType !== ProfileType.Localhost && sp.localhostRef)
    throw invalidArgument(`invalid ${kind} profile: localhost_ref is only for profile type Localhost`);
  if (![ProfileType.RuntimeDefault, ProfileType.Unconfined, ProfileType.Localhost].includes(sp.profileType))
    throw invalidArgument(`invalid ${kind} profile type ${sp.profileType}`);
  if (sp.profileType === ProfileType.Localhost && !sp.localhostRef) throw invalidArgument(`${kind} profile Localhost needs localhost_ref`);
  return sp;
}

/** The container config's `seccompProfile`: undefined = the default profile, 'unconfined', or the profile's JSON text. */
export function seccompProfileOf(
  sc: { seccomp?: SecurityProfile; seccompProfilePath: string; privileged: boolean } | undefined,
  host: SecurityHost,
): string | undefined {
  if (sc?.privileged) return UNCONFINED;
  const sp = checked('seccomp', sc?.seccomp ?? profileOfString('seccomp', sc?.seccompProfilePath ?? ''));
  if (!sp || sp.profileType === ProfileType.Unconfined) return UNCONFINED;
  if (sp.profileType === ProfileType.RuntimeDefault) return undefined;
  const file = sp.localhostRef.startsWith(LOCALHOST) ? sp.localhostRef.slice(LOCALHOST.length) : sp.localhostRef;
  if (!path.isAbsolute(file)) throw invalidArgument(`seccomp profile ${q(file)}: localhost_ref must be an absolute path`);
  let text: string;
  try {
    text = host.readFile(file);
  } catch (e) {
    throw invalidArgument(`cannot read seccomp profile ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
  parseProfile(text, file);
  return text;
}

/** The container config's `apparmorProfile`: undefined = the default where the host has AppArmor, 'unconfined', or a loaded profile's name. */
export function apparmorProfileOf(sc: LinuxContainerSecurityContext | undefined, host: SecurityHost): string | undefined {
  const sp = checked('apparmor', sc?.apparmor ?? profileOfString('apparmor', sc?.apparmorProfile ?? ''));
  if (!sp || sp.profileType === ProfileType.RuntimeDefault) return undefined;
  if (sp.profileType === ProfileType.Unconfined) return UNCONFINED;
  const name = validateProfileName(sp.localhostRef.startsWith(LOCALHOST) ? sp.localhostRef.slice(LOCALHOST.length) : sp.localhostRef);
  if (!host.apparmorEnabled)
    throw failedPrecondition(`AppArmor is not enabled on this host: cannot confine the container with the Localhost profile ${q(name)}`);
  let loaded: boolean;
  try {
    loaded = host.apparmorLoaded(name);
  } catch (e) {
    throw failedPrecondition(`cannot list the loaded AppArmor profiles: ${(e as Error).message}`, e);
  }
  if (!loaded) throw invalidArgument(`AppArmor profile ${q(name)} is not loaded on this host`);
  return name;
}

/** run_as_user / run_as_group / run_as_username as a Docker-style user spec. */
export function userOf(sc: LinuxContainerSecurityContext | undefined): string | undefined {
  const group = sc?.runAsGroup ? `:${sc.runAsGroup.value}` : '';
  if (sc?.runAsUser) return `${sc.runAsUser.value}${group}`;
  if (sc?.runAsUsername) return `${sc.runAsUsername}${group}`;
  if (group) throw invalidArgument('run_as_group needs run_as_user or run_as_username');
  return undefined;
}

const MAX_ID = 2 ** 31 - 1;

function supplementalGroupsOf(
  sc: { supplementalGroups: bigint[]; supplementalGroupsPolicy: SupplementalGroupsPolicy } | undefined,
): ContainerConfig['supplementalGroups'] {
  const gids = (sc?.supplementalGroups ?? []).map((g) => {
    if (g < 0n || g > BigInt(MAX_ID)) throw invalidArgument(`supplemental group ${g} is out of range 0-${MAX_ID}`);
    return Number(g);
  });
  const policy = sc?.supplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge;
  if (policy === SupplementalGroupsPolicy.Merge) return { gids, policy: 'merge' };
  if (policy === SupplementalGroupsPolicy.Strict) return { gids, policy: 'strict' };
  throw invalidArgument(`unknown supplemental_groups_policy ${policy}`);
}

function deviceOf(d: Device): DeviceMapping {
  if (!path.isAbsolute(d.hostPath) || !path.isAbsolute(d.containerPath))
    throw invalidArgument(`device ${d.hostPath}:${d.containerPath}: both paths must be absolute`);
  const permissions = (d.permissions || 'rwm').toLowerCase();
  if (!isDeviceMode(permissions)) throw invalidArgument(`device ${d.hostPath}: bad permissions ${q(d.permissions)} (want some of r, w, m)`);
  return { pathOnHost: d.hostPath, pathInContainer: d.containerPath, cgroupPermissions: permissions };
}

/** A CRI container's security context (and devices) as container config fields; throws before anything is made. */
export function containerSecurityOf(config: CriContainerConfig, host: SecurityHost, sandboxPrivileged: boolean): ContainerSecurity {
  const sc = config.linux?.securityContext;
  const privileged = sc?.privileged ?? false;
  if (privileged && !sandboxPrivileged)
    throw invalidArgument('a privileged container needs a privileged pod sandbox (its security context privileged, as a kubelet sets it)');
  return {
    user: userOf(sc),
    privileged,
    readOnlyRootfs: sc?.readonlyRootfs ?? false,
    capAdd: sc?.capabilities?.addCapabilities ?? [],
    capDrop: sc?.capabilities?.dropCapabilities ?? [],
    noNewPrivileges: sc?.noNewPrivs ?? false,
    devices: config.devices.map(deviceOf),
    supplementalGroups: supplementalGroupsOf(sc),
    seccompProfile: seccompProfileOf(sc, host),
    apparmorProfile: apparmorProfileOf(sc, host),
    maskedPaths: sc?.maskedPaths.length ? [...sc.maskedPaths] : undefined,
    readonlyPaths: sc?.readonlyPaths.length ? [...sc.readonlyPaths] : undefined,
  };
}

const IPC_SYSCTLS = new Set([
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
]);

/** The namespace a sysctl belongs to, or undefined when it is not namespaced (as the kubelet's list has them). */
function sysctlNamespace(name: string): 'net' | 'ipc' | undefined {
  if (name.startsWith('net.')) return 'net';
  if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  return undefined;
}

/** The pod's sysctls, checked: namespaced ones, in a namespace the pod has of its own. */
export function sandboxSysctlsOf(
  config: PodSandboxConfig,
  namespaces: { network: NamespaceMode; ipc: NamespaceMode },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.linux?.sysctls ?? {})) {
    const ns = sysctlNamespace(name);
    if (!ns) throw invalidArgument(`sysctl ${q(name)} is not namespaced: only net.* and the IPC ones can be set for a pod`);
    if ((ns === 'net' ? namespaces.network : namespaces.ipc) === NamespaceMode.NODE)
      throw invalidArgument(`sysctl ${q(name)} cannot be set for a pod in the host's ${ns === 'net' ? 'network' : 'IPC'} namespace`);
    if (/[\n\0]/.test(value)) throw invalidArgument(`sysctl ${q(name)}: invalid value ${q(value)}`);
    out[name] = value;
  }
  return out;
}

/** The infra container's security fields: its user and groups, its seccomp profile and the pod's sysctls. */
export function sandboxSecurityOf(
  config: PodSandboxConfig,
  namespaces: { network: NamespaceMode; ipc: NamespaceMode },
  host: SecurityHost,
): Pick<ContainerConfig, 'user' | 'supplementalGroups' | 'seccompProfile' | 'sysctls'> {
  const sc = config.linux?.securityContext;
  const group = sc?.runAsGroup ? `:${sc.runAsGroup.value}` : '';
  if (group && !sc?.runAsUser) throw invalidArgument('pod sandbox: run_as_group needs run_as_user');
  return {
    user: sc?.runAsUser ? `${sc.runAsUser.value}${group}` : undefined,
    supplementalGroups: supplementalGroupsOf(sc),
    seccompProfile: seccompProfileOf(sc, host),
    sysctls: sandboxSysctlsOf(config, namespaces),
  };
}
