/**
 * Container records ↔ gantry.v1 messages. The wire config is checked here,
 * once, so the service only ever sees a valid ContainerConfig.
 */
import { invalidArgument } from '../../errdefs/errdefs';
import { validateProfileName } from '../../oci/specgen/apparmor/apparmor';
import { parseProfile } from '../../oci/specgen/seccomp/parse';
import { seccompMode } from '../../oci/specgen/seccomp/resolve';
import type { Spec } from '../../oci/spec';
import { UNCONFINED as SECCOMP_UNCONFINED } from '../../oci/specgen/seccomp/seccomp';
import {
  joinedContainer,
  type Container,
  type ContainerConfig,
  type ContainerStatus as Status,
  type HealthState,
  type HealthStatus as Health,
} from '../../containers/containers';
import { checkNetworkOptions } from '../../containers/networking';
import { DEFAULT_NETWORK, type Attachment } from '../../network/index';
import { isRestartPolicyName } from '../../options';
import {
  ContainerStatus,
  HealthStatus,
  type ContainerConfig as WireConfig,
  type ContainerSummary,
  type CriPodMember,
  type Health as WireHealth,
  type EndpointSettings,
  type PortBinding,
} from '../gen/gantry/v1/containers';
import { privilegesFromWire, privilegesToWire } from './privilegesWire';
import { mountPointsOf, volumesFromWire, volumesToWire } from './volumeWire';

export const STATUS: Record<Status, ContainerStatus> = {
  created: ContainerStatus.CONTAINER_STATUS_CREATED,
  running: ContainerStatus.CONTAINER_STATUS_RUNNING,
  paused: ContainerStatus.CONTAINER_STATUS_PAUSED,
  restarting: ContainerStatus.CONTAINER_STATUS_RESTARTING,
  exited: ContainerStatus.CONTAINER_STATUS_EXITED,
  dead: ContainerStatus.CONTAINER_STATUS_DEAD,
};

const HEALTH: Record<Health, HealthStatus> = {
  none: HealthStatus.HEALTH_STATUS_NONE,
  starting: HealthStatus.HEALTH_STATUS_STARTING,
  healthy: HealthStatus.HEALTH_STATUS_HEALTHY,
  unhealthy: HealthStatus.HEALTH_STATUS_UNHEALTHY,
};

const date = (iso: string): Date | undefined => (iso ? new Date(iso) : undefined);

/** A network's name: Docker's rule for container names (`container:NAME` is a mode, checked apart). */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The endpoints and published ports of an attachment, as the summary carries them. */
export function toWireNetworking(a: Attachment | undefined): { networks: EndpointSettings[]; ports: PortBinding[] } {
  if (!a) return { networks: [], ports: [] };
  return {
    networks: a.networks.map((n) => {
      const [ip = '', prefix = '0'] = (n.addresses[0] ?? '').split('/');
      return {
        network: n.network,
        networkId: n.networkId,
        interface: n.interface,
        ipAddress: ip,
        ipPrefixLen: Number(prefix),
        gateway: n.gateway,
        macAddress: n.mac,
        aliases: [...n.aliases],
      };
    }),
    ports: a.ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol })),
  };
}

/** `cri`: a CRI object's place in its pod (runtime/cri/podMember.ts), given by the daemon's wiring. */
export function toSummary(c: Container, attachment?: Attachment, cri?: CriPodMember): ContainerSummary {
  return {
    id: c.id,
    name: c.name,
    image: c.config.image,
    imageName: c.imageName,
    imageId: c.imageId,
    command: [...c.args],
    status: STATUS[c.state.status],
    exitCode: c.state.exitCode,
    oomKilled: c.state.oomKilled,
    createdAt: new Date(c.createdAt),
    startedAt: date(c.state.startedAt),
    finishedAt: date(c.state.finishedAt),
    health: HEALTH[c.state.health.status],
    restartCount: c.state.restartCount,
    pid: c.state.pid,
    labels: { ...c.config.labels },
    mounts: c.config.mounts.map((m) => ({ ...m })),
    network: c.config.network,
    restartPolicy: { ...c.config.restartPolicy },
    tty: c.config.tty,
    error: c.state.error,
    stoppedByUser: c.state.stoppedByUser,
    namespace: c.config.namespace ?? '',
    cri,
    ...toWireNetworking(attachment),
    mountPoints: mountPointsOf(c.config),
  };
}

export function toWireHealth(h: HealthState): WireHealth {
  return {
    status: HEALTH[h.status],
    failingStreak: h.failingStreak,
    log: h.log.map((p) => ({ start: new Date(p.start), end: new Date(p.end), exitCode: p.exitCode, output: p.output })),
  };
}

export function toWireConfig(c: ContainerConfig): WireConfig {
  const hc = c.healthcheck;
  return {
    image: c.image,
    entrypoint: [...(c.entrypoint ?? [])],
    entrypointSet: c.entrypoint !== undefined,
    cmd: [...(c.cmd ?? [])],
    env: [...c.env],
    workingDir: c.workingDir ?? '',
    user: c.user ?? '',
    hostname: c.hostname ?? '',
    labels: { ...c.labels },
    mounts: c.mounts.map((m) => ({ ...m })),
    tmpfs: c.tmpfs.map((t) => ({ destination: t.destination, options: [...t.options] })),
    readOnlyRootfs: c.readOnlyRootfs,
    memoryBytes: c.memoryBytes,
    nanoCpus: c.nanoCpus,
    pidsLimit: c.pidsLimit,
    capAdd: [...c.capAdd],
    capDrop: [...c.capDrop],
    network: c.network,
    restartPolicy: { ...c.restartPolicy },
    healthcheck: !hc
      ? undefined
      : 'disabled' in hc
        ? { test: [], intervalMs: 0, timeoutMs: 0, startPeriodMs: 0, retries: 0, disabled: true }
        : { ...hc, test: [...hc.test], disabled: false },
    tty: c.tty,
    openStdin: c.openStdin,
    stopSignal: c.stopSignal ?? '',
    stopTimeout: c.stopTimeoutSeconds ?? 0,
    stopTimeoutSet: c.stopTimeoutSeconds !== undefined,
    autoRemove: c.autoRemove,
    ...privilegesToWire(c),
    seccompProfile: c.seccompProfile ?? '',
    noNewPrivileges: c.noNewPrivileges,
    apparmorProfile: c.apparmorProfile ?? '',
    publish: [...(c.publish ?? [])],
    publishAll: c.publishAll ?? false,
    expose: [...(c.expose ?? [])],
    dns: [...(c.dns ?? [])],
    dnsSearch: [...(c.dnsSearch ?? [])],
    dnsOptions: [...(c.dnsOptions ?? [])],
    addHosts: [...(c.addHosts ?? [])],
    macAddress: c.macAddress ?? '',
    ip: c.ip ?? '',
    networkAliases: [...(c.networkAliases ?? [])],
    connectedNetworks: (c.connectedNetworks ?? []).map((n) => ({ network: n.network, aliases: [...(n.aliases ?? [])], ip: n.ip ?? '' })),
    primaryDisconnected: c.primaryDisconnected ?? false,
    ...volumesToWire(c),
  };
}

export function fromWireConfig(w: WireConfig | undefined): ContainerConfig {
  if (!w?.image) throw invalidArgument('an image is required');
  // Docker's default: the bridge network.
  const network = w.network || DEFAULT_NETWORK;
  const joined = joinedContainer(network);
  if (joined !== undefined ? !joined : !NETWORK_NAME.test(network)) {
    throw invalidArgument(
      `network ${JSON.stringify(w.network)} is not supported: use "bridge", "none", "host", "container:NAME" or a network's name`,
    );
  }
  if (joined !== undefined && w.hostname) throw invalidArgument('conflicting options: hostname and the network mode');
  const policyName = w.restartPolicy?.name || 'no';
  if (!isRestartPolicyName(policyName)) throw invalidArgument(`invalid restart policy "${w.restartPolicy?.name}"`);
  const retries = w.restartPolicy?.maximumRetryCount ?? 0;
  if (retries < 0) throw invalidArgument('maximum retry count cannot be negative');
  if (retries > 0 && policyName !== 'on-failure')
    throw invalidArgument(`maximum retry count cannot be used with restart policy '${policyName}'`);
  if (w.autoRemove && policyName !== 'no')
    throw invalidArgument('conflicting options: cannot combine a restart policy with --rm (auto-remove)');
  for (const [what, n] of [
    ['memory', w.memoryBytes],
    ['cpus', w.nanoCpus],
    ['pids limit', w.pidsLimit],
  ] as const) {
    if (n < 0) throw invalidArgument(`${what} cannot be negative`);
  }
  if (w.stopTimeoutSet && w.stopTimeout < 0) throw invalidArgument('stop timeout cannot be negative');
  const hc = w.healthcheck;
  const healthcheck = !hc ? undefined : hc.disabled ? ({ disabled: true } as const) : checkHealth(hc);
  return {
    image: w.image,
    entrypoint: w.entrypointSet ? [...w.entrypoint] : undefined,
    cmd: w.cmd.length ? [...w.cmd] : undefined,
    env: [...w.env],
    workingDir: w.workingDir || undefined,
    user: w.user || undefined,
    hostname: w.hostname || undefined,
    labels: { ...w.labels },
    mounts: w.mounts.map((m) => ({ source: m.source, destination: m.destination, readOnly: m.readOnly })),
    tmpfs: w.tmpfs.map((t) => ({ destination: t.destination, options: [...t.options] })),
    readOnlyRootfs: w.readOnlyRootfs,
    memoryBytes: w.memoryBytes,
    nanoCpus: w.nanoCpus,
    pidsLimit: w.pidsLimit,
    capAdd: [...w.capAdd],
    capDrop: [...w.capDrop],
    network,
    restartPolicy: { name: policyName, maximumRetryCount: retries },
    healthcheck,
    tty: w.tty,
    openStdin: w.openStdin,
    stopSignal: w.stopSignal || undefined,
    stopTimeoutSeconds: w.stopTimeoutSet ? w.stopTimeout : undefined,
    autoRemove: w.autoRemove,
    ...privilegesFromWire(w),
    ...securityFromWire(w),
    ...networkFromWire(w),
    ...volumesFromWire(w),
  };
}

/** The network options, only those set (records stay as before for a container that uses none). */
function networkFromWire(w: WireConfig): Partial<ContainerConfig> {
  const lists = {
    publish: w.publish,
    expose: w.expose,
    dns: w.dns,
    dnsSearch: w.dnsSearch,
    dnsOptions: w.dnsOptions,
    addHosts: w.addHosts,
    networkAliases: w.networkAliases,
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(lists)) if (v?.length) out[k] = [...v];
  if (w.publishAll) out.publishAll = true;
  if (w.macAddress) out.macAddress = w.macAddress.toLowerCase();
  if (w.ip) out.ip = w.ip;
  if (w.connectedNetworks?.length)
    out.connectedNetworks = w.connectedNetworks.map((n) => ({
      network: n.network,
      ...(n.aliases.length ? { aliases: [...n.aliases] } : {}),
      ...(n.ip ? { ip: n.ip } : {}),
    }));
  if (w.primaryDisconnected) out.primaryDisconnected = true;
  const config = out as Partial<ContainerConfig>;
  checkNetworkOptions({ network: w.network || DEFAULT_NETWORK, ...config } as ContainerConfig);
  return config;
}

function checkHealth(hc: NonNullable<WireConfig['healthcheck']>) {
  for (const [what, n] of [
    ['interval', hc.intervalMs],
    ['timeout', hc.timeoutMs],
    ['start period', hc.startPeriodMs],
  ] as const) {
    if (n < 0) throw invalidArgument(`health check ${what} cannot be negative`);
    if (n > 0 && n < 1) throw invalidArgument(`health check ${what} must be at least 1ms`);
  }
  if (hc.retries < 0) throw invalidArgument('health check retries cannot be negative');
  if (hc.test.length && !['CMD', 'CMD-SHELL', 'NONE'].includes(hc.test[0])) {
    throw invalidArgument(`health check test must start with CMD, CMD-SHELL or NONE, not "${hc.test[0]}"`);
  }
  return { test: [...hc.test], intervalMs: hc.intervalMs, timeoutMs: hc.timeoutMs, startPeriodMs: hc.startPeriodMs, retries: hc.retries };
}

/** The security options, checked: a custom seccomp profile must parse (named field in the error), a profile name must be one. */
function securityFromWire(w: WireConfig): Pick<ContainerConfig, 'seccompProfile' | 'noNewPrivileges' | 'apparmorProfile'> {
  const out: { seccompProfile?: string; noNewPrivileges?: boolean; apparmorProfile?: string } = {};
  if (w.seccompProfile) {
    if (w.seccompProfile !== SECCOMP_UNCONFINED) parseProfile(w.seccompProfile);
    out.seccompProfile = w.seccompProfile;
  }
  if (w.noNewPrivileges !== undefined) out.noNewPrivileges = w.noNewPrivileges;
  if (w.apparmorProfile) out.apparmorProfile = validateProfileName(w.apparmorProfile);
  return out;
}

/**
 * Inspect's security fields: the seccomp mode from the config (privileged
 * counts as unconfined), no-new-privileges as fixed at create, and the
 * AppArmor profile as written into the spec ('' = none: no bundle, or a
 * host without AppArmor).
 */
export function effectiveSecurity(
  c: ContainerConfig,
  specJson: string,
): { seccomp: string; noNewPrivileges: boolean; apparmorProfile: string } {
  let apparmorProfile = '';
  try {
    if (specJson) apparmorProfile = (JSON.parse(specJson) as Spec).process?.apparmorProfile ?? '';
  } catch {
    // An unreadable spec shows no profile; specJson itself is returned as is.
  }
  return { seccomp: seccompMode(c), noNewPrivileges: c.noNewPrivileges ?? false, apparmorProfile };
}
